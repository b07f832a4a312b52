/// What destroying a batch of data keys did, for the shredder's report and the erasure receipt.
public struct DataKeyDestruction: Sendable, Equatable {
    /// Data keys destroyed now.
    public var destroyed = 0
    /// Owners left alone because their data keys are under legal hold.
    public var held: [String] = []
    /// Day keys replaced by a fresh generation because a data key under them was erased (provider-wrapped
    /// day keys only): the other data keys of the day were re-wrapped and the old provider key destroyed.
    public var dayKeysRegenerated = 0
    /// Data keys of the same days re-wrapped under the fresh day keys.
    public var dataKeysRewrapped = 0
    /// Provider keys of replaced day keys that the provider has not destroyed yet (it failed or was down):
    /// until they go, a backup taken before the erasure can still open the erased keys. `callvault sweep`
    /// and the next erasure retry them.
    public var providerKeysPending: [String] = []
    /// Day keys wrapped in the local key store (not by a provider) under which data keys were erased: a
    /// backup holding `keys.sqlite` and the root key opens those erased keys until the day key expires.
    public var localDayKeys = 0

    public init() {}

    /// Whether no copy of an erased data key, in any backup of the data directory, can be opened any more.
    public var backupProof: Bool { providerKeysPending.isEmpty && localDayKeys == 0 }
}
