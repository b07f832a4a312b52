public import CallVaultArchive

/// Where a ``Segmenter`` hands full segments: the recording writer in production (generic, so the
/// call is specialized and allocation-free).
public protocol SegmentSink: AnyObject {
    func write(segment: UnsafeRawBufferPointer, frameCount: Int) throws(RecorderError)
}

extension RecordingWriter: SegmentSink {
    public func write(segment: UnsafeRawBufferPointer, frameCount: Int) throws(RecorderError) {
        try append(segment: segment, frameCount: frameCount)
    }
}
