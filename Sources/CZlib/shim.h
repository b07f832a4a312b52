#ifndef CALLVAULT_CZLIB_SHIM_H
#define CALLVAULT_CZLIB_SHIM_H
/* Only zlib's crc32 is used (the CRC-32 of ZIP entries); CallVault writes STORED entries. */
#include <zlib.h>
#endif
