public import CallVaultCrypto

extension SealedPartSource {
    /// The part stored as `key` in `store`, read through an ``ObjectByteSource`` when the recording
    /// reader reaches it (inside ``ObjectReading/run(_:)``). Error messages name it by `key`.
    /// - Parameter size: the object's size when known (no HEAD then); nil asks the store.
    public static func object(
        _ key: String, in store: any ObjectStore, size: Int? = nil,
        windowByteCount: Int = ObjectByteSource.defaultWindowByteCount
    ) -> SealedPartSource {
        SealedPartSource(name: key) { () throws(SealedFileError) -> any SealedByteSource in
            if let size { return ObjectByteSource(store: store, key: key, size: size, windowByteCount: windowByteCount) }
            return try ObjectByteSource(store: store, key: key, windowByteCount: windowByteCount)
        }
    }
}
