/// What is sealed at rest, read back: finding a recording's part files, the voice segment payload
/// format, unsealing and decoding recordings and transcripts under audit, and sealing transcripts.
///
/// The recorder writes through the same file names and payload format; transcription and retention
/// read through the same doors (``RecordingExporter``, ``TranscriptStore``), so the GDPR Art. 18
/// restriction and the decryption audit are enforced in one place. No engine code and no network here.
public enum CallVaultArchive {}
