/// How a part file (or a whole recording) ended when a reader reached its end.
public enum SealedFileEnding: String, Sendable, Equatable {
    /// The `last` segment was read and nothing follows it: the recording is complete.
    case lastSegment
    /// A non-final part ended at a segment boundary, as it should.
    case partBoundary
    /// The final part ended at a segment boundary without a `last` segment (crash, or cut tail).
    case missingLast
    /// The part ended inside a segment frame (a torn write from a crash); the partial frame was dropped.
    case tornTail
}
