/*
 * bcryptprimitives.dll for Wine 8, which has none: Node for Windows (through libuv and
 * OpenSSL) imports ProcessPrng from it and refuses to start without it. ProcessPrng fills a
 * buffer from the system CSPRNG and cannot fail; Wine's advapi32 has that generator as
 * RtlGenRandom (exported as SystemFunction036).
 *
 * Built by scripts/ci/windows-wine.sh with mingw-w64 into the private Wine prefix only.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* RtlGenRandom takes a ULONG length; a larger request is served in pieces. */
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
