#ifndef CALLVAULT_CSPANDSP_SHIM_H
#define CALLVAULT_CSPANDSP_SHIM_H
/* Only the G.722 codec of spandsp: <spandsp.h> would pull in the fax modules and libtiff. */
#include <stdint.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>
#endif
