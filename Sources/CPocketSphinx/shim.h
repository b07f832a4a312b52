#ifndef CALLVAULT_CPOCKETSPHINX_SHIM_H
#define CALLVAULT_CPOCKETSPHINX_SHIM_H
#include <pocketsphinx.h>
#endif
