/// The consent gate, the segmenter, the recording writer and a call's lifecycle.
///
/// This module decides, frame by frame, what may be recorded; it never imports the network.
public enum CallVaultRecorder {}
