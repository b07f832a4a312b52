import Foundation

/// Synthetic speech from espeak-ng, resampled by sox, as 16-bit PCM: the false-alarm test material
/// for the DTMF detector (real speech is what a keypad detector must not mistake for a key).
enum SpeechSynthesizer {
    static var isAvailable: Bool { ExternalTool.isInstalled("espeak-ng") && ExternalTool.isInstalled("sox") }

    /// Says `text` with `voice` (an espeak-ng voice such as `en-us` or `en+f3`) at `pitch` (0–99)
    /// and `wordsPerMinute`, at `sampleRate`, mono.
    static func speak(
        _ text: String,
        voice: String,
        pitch: Int,
        wordsPerMinute: Int = 175,
        sampleRate: Int
    ) throws -> [Int16] {
        let dir = try ExternalTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let wav = dir.appendingPathComponent("speech.wav")
        let raw = dir.appendingPathComponent("speech.raw")
        try ExternalTool.run(
            "espeak-ng",
            ["-v", voice, "-p", "\(pitch)", "-s", "\(wordsPerMinute)", "-w", wav.path, text]
        )
        try ExternalTool.run(
            "sox",
            ["-D", wav.path, "-r", "\(sampleRate)", "-c", "1", "-t", "s16", raw.path]
        )
        return try ExternalTool.readS16(raw)
    }
}
