#ifndef CALLVAULT_CPKCS11_SHIM_H
#define CALLVAULT_CPKCS11_SHIM_H
/* The PKCS#11 header is p11-kit's (Debian ships none with SoftHSM2); its compatibility names
   (CK_ATTRIBUTE.pValue, CK_GCM_PARAMS.pIv, ...) are the standard's. p11-kit also loads modules. */
#include <p11-kit/pkcs11.h>
#include <p11-kit/p11-kit.h>
#endif
