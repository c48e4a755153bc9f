/* other_abi.c - a plugin built for another handler ABI than the worker's
 * (tests/it/it_plugin.sh): the master must refuse to start. */
#include <syncq/handler.h>

const uint32_t syncq_plugin_abi = SYNCQ_HANDLER_ABI + 1;

int
syncq_plugin_init(uint32_t api_version, syncq_registry *registry)
{
    (void)api_version;
    (void)registry;
    return 0;
}
