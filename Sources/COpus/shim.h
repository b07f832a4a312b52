#ifndef CALLVAULT_COPUS_SHIM_H
#define CALLVAULT_COPUS_SHIM_H
#include <opus/opus.h>

/* opus_encoder_ctl and opus_decoder_ctl are variadic macros-based APIs; Swift cannot call them. */
static inline int cv_opus_set_bitrate(OpusEncoder *enc, opus_int32 bps) { return opus_encoder_ctl(enc, OPUS_SET_BITRATE(bps)); }
static inline int cv_opus_set_complexity(OpusEncoder *enc, opus_int32 c) { return opus_encoder_ctl(enc, OPUS_SET_COMPLEXITY(c)); }
static inline int cv_opus_set_signal_voice(OpusEncoder *enc) { return opus_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)); }
static inline int cv_opus_set_inband_fec(OpusEncoder *enc, opus_int32 on) { return opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(on)); }
static inline int cv_opus_set_packet_loss_perc(OpusEncoder *enc, opus_int32 p) { return opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(p)); }
static inline int cv_opus_encoder_reset(OpusEncoder *enc) { return opus_encoder_ctl(enc, OPUS_RESET_STATE); }
static inline int cv_opus_decoder_reset(OpusDecoder *dec) { return opus_decoder_ctl(dec, OPUS_RESET_STATE); }
#endif
