/* main.c - syncq: the producer and ops CLI. */
#include "fmacros.h"
#include "cli.h"

int
main(int argc, char **argv)
{
    return cli_dispatch(argc, argv);
}
