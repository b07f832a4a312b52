import ArgumentParser
import CallVaultKeyProviders
import Foundation

/// A key provider's settings as options — module and token label, or Transit URL, mount, namespace, CA
/// file — shared by `init --key-provider KIND`, `tenant add|set --key-provider KIND` and `keys migrate --to KIND`.
///
/// Secrets never come from a flag value (`ps` and shell history would show them): the PKCS#11 PIN is
/// read from `CALLVAULT_PKCS11_PIN` or `--pkcs11-pin-file`, the Transit token from
/// `CALLVAULT_TRANSIT_TOKEN` or `--transit-token-file`, each file mode 0600.
struct ProviderSettingsOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The PKCS#11 module (shared library).", valueName: "PATH"))
    var pkcs11Module: String?

    @Option(help: ArgumentHelp("The PKCS#11 token's label.", valueName: "LABEL"))
    var pkcs11Token: String?

    @Option(help: ArgumentHelp("A file (mode 0600) holding the token's user PIN, read when CALLVAULT_PKCS11_PIN is unset.", valueName: "FILE"))
    var pkcs11PinFile: String?

    @Option(help: ArgumentHelp("The Vault/OpenBao server, e.g. https://vault.example.com:8200.", valueName: "URL"))
    var transitUrl: String?

    @Option(help: ArgumentHelp("The path the Transit engine is mounted at (default transit).", valueName: "PATH"))
    var transitMount: String?

    @Option(help: ArgumentHelp("The Vault Enterprise / OpenBao namespace.", valueName: "NS"))
    var transitNamespace: String?

    @Option(help: ArgumentHelp("PEM file of the certificate authorities to trust for the Transit server.", valueName: "FILE"))
    var transitCaFile: String?

    @Option(help: ArgumentHelp("A file (mode 0600) holding the Transit token, read when CALLVAULT_TRANSIT_TOKEN is unset.", valueName: "FILE"))
    var transitTokenFile: String?

    /// Usage errors (exit 2), each naming the option or variable to give; `choice` is how the kind was
    /// chosen (`--key-provider`, `--to`), for the messages.
    func validate(kind: KeyProviderKind, choice: String, environment: [String: String]) throws {
        let keyProvider = kind.rawValue
        let pkcs11Given: [(String, String?)] = [
            ("--pkcs11-module", pkcs11Module), ("--pkcs11-token", pkcs11Token), ("--pkcs11-pin-file", pkcs11PinFile),
        ]
        let transitGiven: [(String, String?)] = [
            ("--transit-url", transitUrl), ("--transit-mount", transitMount), ("--transit-namespace", transitNamespace),
            ("--transit-ca-file", transitCaFile), ("--transit-token-file", transitTokenFile),
        ]
        for (name, value) in pkcs11Given + transitGiven {
            if let value, value.isEmpty { throw ValidationError("\(name) needs a value") }
        }
        if kind != .pkcs11, let given = pkcs11Given.first(where: { $0.1 != nil }) {
            throw ValidationError("\(given.0) is only for \(choice) pkcs11")
        }
        if kind != .transit, let given = transitGiven.first(where: { $0.1 != nil }) {
            throw ValidationError("\(given.0) is only for \(choice) transit")
        }
        switch kind {
        case .local:
            break
        case .pkcs11:
            guard pkcs11Module != nil else { throw ValidationError("\(choice) pkcs11 needs --pkcs11-module PATH") }
            guard pkcs11Token != nil else { throw ValidationError("\(choice) pkcs11 needs --pkcs11-token LABEL") }
            try checkSecret(
                variable: KeyProviderSettings.pinVariable, file: pkcs11PinFile, option: "--pkcs11-pin-file",
                what: "PKCS#11 PIN file", choice: "\(choice) \(keyProvider)", environment: environment)
        case .transit:
            guard transitUrl != nil else { throw ValidationError("\(choice) transit needs --transit-url URL") }
            try checkSecret(
                variable: KeyProviderSettings.tokenVariable, file: transitTokenFile, option: "--transit-token-file",
                what: "Transit token file", choice: "\(choice) \(keyProvider)", environment: environment)
        }
    }

    private func checkSecret(
        variable: String, file: String?, option: String, what: String, choice: String, environment: [String: String]
    ) throws {
        let set = !(environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ?? true)
        if let file {
            do { try PrivateFile.check(file, what: what) } catch let error as KeyProviderSettings.SecretError {
                throw ValidationError("\(option): \(error.message)")
            }
        } else if !set {
            throw ValidationError(
                "\(choice) needs a secret: set the environment variable \(variable), or give \(option) FILE (mode 0600)")
        }
    }

    /// The settings to write to `key-provider.json`: file paths made absolute, no secret.
    func settings(kind: KeyProviderKind, currentDirectory: String = FileManager.default.currentDirectoryPath)
        -> KeyProviderSettings
    {
        func absolute(_ path: String?) -> String? {
            guard let path else { return nil }
            if path.hasPrefix("/") { return path }
            return URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: currentDirectory, isDirectory: true))
                .standardizedFileURL.path
        }
        switch kind {
        case .local:
            return .local
        case .pkcs11:
            return KeyProviderSettings(
                kind: .pkcs11,
                // A bare module name is p11-kit's to resolve (its module directory); a path is made absolute.
                pkcs11: .init(
                    module: pkcs11Module.map { $0.contains("/") ? absolute($0) ?? $0 : $0 } ?? "", token: pkcs11Token ?? "", pinFile: absolute(pkcs11PinFile)))
        case .transit:
            return KeyProviderSettings(
                kind: .transit,
                transit: .init(
                    url: transitUrl ?? "", mount: transitMount ?? "transit", namespace: transitNamespace,
                    caFile: absolute(transitCaFile), tokenFile: absolute(transitTokenFile)))
        }
    }
}
