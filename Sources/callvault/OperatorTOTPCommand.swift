import ArgumentParser
import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation

extension OperatorCommand {
    /// `callvault operator totp enable|disable NAME`: an optional second factor for console sign-in, a
    /// 6-digit code from an authenticator app (TOTP, RFC 6238: HMAC-SHA1, 30-second steps).
    struct TOTPCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "totp",
            abstract: "Give an operator a TOTP second factor (an authenticator app's 6-digit code), or take it away; seal older secrets.",
            subcommands: [Enable.self, Disable.self, Seal.self]
        )

        struct Enable: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Generate a 160-bit TOTP secret for an operator and print it once (base32 and otpauth:// URI); audited.")

            @OptionGroup var options: DataOptions
            @Argument(help: "The operator's name.") var name: String
            @Flag(help: "Print one JSON document.") var json = false

            func run() async throws {
                let totp: TOTP
                do { totp = try TOTP.generate() } catch { throw CLIError.failure("no random bytes: \(error.message)") }
                try await CatalogCommandSupport.runAsync {
                    let keyStore = try await options.openKeyStore()
                    let sealed = try keyStore.sealOperatorSecret(totp.secret, operatorName: name)
                    try await options.withStore { catalog in
                        try await catalog.setOperatorTOTP(name: name, secret: .sealed(sealed), actor: "cli", at: Date())
                    }
                }
                let uri = totp.uri(account: name)
                if json {
                    try CatalogCommandSupport.printJSON(TOTPOutput(name: name, secret: totp.base32Secret, uri: uri))
                } else {
                    print("operator \(name): TOTP enabled; sign-in now asks for a 6-digit code")
                    print("secret: \(totp.base32Secret)  (shown once: add it to an authenticator app)")
                    print("uri: \(uri)")
                }
            }
        }

        struct Disable: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Take an operator's TOTP second factor away (its secret is deleted); audited.")

            @OptionGroup var options: DataOptions
            @Argument(help: "The operator's name.") var name: String

            func run() async throws {
                try await CatalogCommandSupport.runAsync {
                    try await options.withStore { catalog in
                        try await catalog.setOperatorTOTP(name: name, secret: nil, actor: "cli", at: Date())
                    }
                }
                print("operator \(name): TOTP disabled; sign-in asks for the password only")
            }
        }

        /// Seals the TOTP secrets that builds before sealing stored as they were, so that the catalog alone
        /// no longer computes those operators' codes. Their authenticators go on working; run it once after
        /// upgrading (again does nothing).
        struct Seal: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Seal every operator's TOTP secret still stored as it is under the key store's root key; codes keep working.")

            @OptionGroup var options: DataOptions

            func run() async throws {
                try await CatalogCommandSupport.runAsync {
                    let keyStore = try await options.openKeyStore()
                    let sealed = try await options.withStore { catalog in
                        var sealed = 0
                        for account in try await catalog.operators() where account.totp {
                            guard case .plain(let plain)? = try await catalog.operatorCredentials(name: account.name)?.totp?.secret
                            else { continue }
                            let secret = try SecretKey(copying: plain)
                            let wrapped = try keyStore.sealOperatorSecret(secret, operatorName: account.name)
                            if try await catalog.sealOperatorTOTP(name: account.name, plain: plain, sealed: wrapped) { sealed += 1 }
                        }
                        return sealed
                    }
                    print("\(sealed) TOTP secret\(sealed == 1 ? "" : "s") sealed")
                }
            }
        }
    }
}

/// What `operator totp enable --json` prints, once.
struct TOTPOutput: Encodable {
    let name: String
    /// The secret in base32 (RFC 4648, no padding).
    let secret: String
    /// `otpauth://totp/CallVault:NAME?secret=…&issuer=CallVault`.
    let uri: String
}
