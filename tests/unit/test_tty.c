/* test_tty.c - tty_escape: what a terminal must never receive raw. */
#include "fmacros.h"
#include "tty.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
expect(const char *in, const char *want)
{
    char *got = tty_str(in);
    if (strcmp(got, want) != 0) fail_msg("\"%s\" became \"%s\", want \"%s\"", in, got, want);
    free(got);
}

static void
test_plain_kept(void **state)
{
    (void)state;
    expect("", "");
    expect("dns:www.example.org", "dns:www.example.org");
    expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 back\\slash", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 back\\slash");
    assert_null(tty_str(NULL));
}

static void
test_c0_and_del(void **state)
{
    (void)state;
    expect("a\x1b[31mred", "a\\x1b[31mred");
    expect("\x1b]0;pwned\x07title", "\\x1b]0;pwned\\x07title");
    expect("line\nnext\tcol\r", "line\\x0anext\\x09col\\x0d");
    expect("del\x7f", "del\\x7f");
}

static void
test_c1(void **state)
{
    (void)state;
    expect("\xc2\x9b" "31m", "\\u009b31m");          /* U+009B CSI, UTF-8 encoded */
    expect("\xc2\x80\xc2\x9f\xc2\xa0", "\\u0080\\u009f\xc2\xa0"); /* NBSP (U+00A0) is text */
    expect("raw\x9b" "31m", "raw\\x9b31m");           /* a lone C1 byte is not UTF-8 */
    expect("\xff\xfe", "\\xff\\xfe");
    expect("\xe2\x82", "\\xe2\\x82");                 /* cut sequence */
}

static void
test_bidi(void **state)
{
    (void)state;
    expect("invoice\xe2\x80\xaetxt.exe", "invoice\\u202etxt.exe");
    expect("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad", "\\u202a\\u202b\\u202c\\u202d");
    expect("\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069");
    expect("\xe2\x80\x8f\xd8\x9c", "\\u200f\\u061c");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_kept),
        cmocka_unit_test(test_c0_and_del),
        cmocka_unit_test(test_c1),
        cmocka_unit_test(test_bidi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
