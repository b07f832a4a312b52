import ArgumentParser
import CallVaultKeyProviders
import Foundation

/// `init`'s choice of key provider: `--key-provider local|pkcs11|transit` and its settings
/// (``ProviderSettingsOptions``).
struct KeyProviderOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where day keys are wrapped: local (the root key file), pkcs11 (an HSM token) or transit "
                + "(Vault/OpenBao Transit).", valueName: "KIND"))
    var keyProvider = "local"

    @OptionGroup var providerSettings: ProviderSettingsOptions

    /// The environment the secrets are looked up in (a seam for tests).
    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var kind: KeyProviderKind? { KeyProviderKind(rawValue: keyProvider) }

    func validate() throws {
        try validate(environment: environment)
    }

    /// Usage errors (exit 2), each naming the option or variable to give.
    func validate(environment: [String: String]) throws {
        guard let kind else {
            throw ValidationError("--key-provider '\(keyProvider)' must be local, pkcs11 or transit")
        }
        try providerSettings.validate(kind: kind, choice: "--key-provider", environment: environment)
    }

    /// The settings to write to `key-provider.json`: file paths made absolute, no secret.
    func settings(currentDirectory: String = FileManager.default.currentDirectoryPath) -> KeyProviderSettings {
        providerSettings.settings(kind: kind ?? .local, currentDirectory: currentDirectory)
    }
}
