/// Frames, codecs (G.711, L16, Opus), audio file I/O, resampling and DTMF detection.
///
/// Everything on the per-frame path in this module works on preallocated storage, so a call
/// that has been set up decodes, resamples and detects tones without touching the heap.
public enum CallVaultAudio {}
