/// The version `callvault --version` prints.
enum CallVaultVersion {
    static let string = "0.1.0"
}
