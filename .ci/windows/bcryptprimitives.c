/*
 * bcryptprimitives.dll for Wine 8, which lacks it. Rust's standard library imports
 * ProcessPrng from it (HashMap's random keys, among others), so without this DLL every
 * Rust program for x86_64-pc-windows-gnu fails to load under Debian's Wine.
 *
 * ProcessPrng fills a buffer with random bytes and always succeeds on Windows; here it
 * forwards to SystemFunction036 (RtlGenRandom, in advapi32), which Wine has, in chunks of
 * at most 2^31 - 1 bytes (its length is a ULONG).
 *
 * Built by .ci/windows.sh with the mingw-w64 cross compiler and copied into the Wine
 * prefix's system32. Used only for running the test suite under Wine, never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
