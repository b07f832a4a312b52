#ifndef CALLVAULT_CLIBCRYPTO_SHIM_H
#define CALLVAULT_CLIBCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/aes.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>

/* OPENSSL_cleanse is a function, but OPENSSL_free/OPENSSL_malloc are macros over CRYPTO_*; expose them. */
static inline void cv_openssl_free(void *p) { OPENSSL_free(p); }
#endif
