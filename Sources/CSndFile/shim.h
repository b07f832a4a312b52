#ifndef CALLVAULT_CSNDFILE_SHIM_H
#define CALLVAULT_CSNDFILE_SHIM_H
#include <sndfile.h>
#endif
