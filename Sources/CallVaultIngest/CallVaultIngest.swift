/// The protocol layer of the ingest socket: Twilio Media Streams JSON, the binary WebSocket's start
/// message, Asterisk AudioSocket framing, base64, and the assembly of arbitrary audio chunks into
/// 20 ms frames.
///
/// Nothing here does I/O: the server hands in the bytes it received and gets back typed messages
/// or an ``IngestError``. Everything on the per-media-message path works on byte views of the
/// received buffer and on storage preallocated per connection, so steady-state audio never touches
/// the heap (checked by the malloc-counting `IngestBenchmarks`). Control messages (`start`, `stop`,
/// the stream's first text message) are rare and may allocate.
public enum CallVaultIngest {}
