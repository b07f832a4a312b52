import ArgumentParser
import CallVaultCrypto
import CallVaultModel
import CallVaultStore
import Foundation

/// `callvault operator add|list|remove|sign-out|totp`: the people who sign in to the web console (`serve --console`).
struct OperatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator",
        abstract: "Create, list and remove web console operators; end their sessions; give them a TOTP second factor.",
        subcommands: [Add.self, List.self, Remove.self, SignOut.self, TOTPCommand.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an operator; prints a generated password once (only its scrypt hash is stored).")

        @OptionGroup var options: DataOptions
        @Argument(help: "The operator's sign-in name (1-64 of A-Z a-z 0-9 . _ - @).") var name: String
        @Option(help: "A tenant (id or name) the operator may see; repeat for several.") var tenant: [String] = []
        @Option(help: "The operator's role in those tenants: viewer, agent or admin.") var role: String = "viewer"
        @Flag(help: "Administrator of every tenant (no --tenant needed).") var globalAdmin = false
        @Flag(help: "Read the password from the first line of stdin instead of generating one.") var passwordStdin = false
        @Flag(help: "Print one JSON document.") var json = false

        func validate() throws {
            guard OperatorAccount.isValidName(name) else {
                throw ValidationError("'\(name)' is not an operator name (1-64 of A-Z a-z 0-9 . _ - @)")
            }
            guard OperatorRole(rawValue: role) != nil else { throw ValidationError("--role must be viewer, agent or admin") }
            guard globalAdmin || !tenant.isEmpty else { throw ValidationError("give --tenant (repeatable) or --global-admin") }
        }

        func run() async throws {
            let password: String
            if passwordStdin {
                guard let line = readLine(strippingNewline: true), line.utf8.count >= 12, line.utf8.count <= 1024 else {
                    throw CLIError.failure("--password-stdin: the first line of stdin must hold a password of 12 to 1024 bytes")
                }
                password = line
            } else {
                password = try Self.generatedPassword()
            }
            let hash: PasswordHash
            do { hash = try PasswordHash(hashing: password) } catch {
                throw CLIError.failure("the password could not be hashed: \(error.message)")
            }
            let role = OperatorRole(rawValue: self.role) ?? .viewer
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in
                    let known = try await catalog.tenants()
                    var roles: [String: OperatorRole] = [:]
                    for wanted in tenant {
                        guard let found = known.first(where: { $0.id == wanted || $0.name == wanted }) else {
                            throw CatalogError(.notFound, "no tenant with id or name \(wanted)")
                        }
                        roles[found.id] = role
                    }
                    let account = try await catalog.addOperator(
                        name: name, passwordHash: hash.encoded, globalAdmin: globalAdmin, roles: roles, actor: "cli", at: Date())
                    let shown = passwordStdin ? nil : password
                    if json {
                        try CatalogCommandSupport.printJSON(OperatorOutput(account: account, password: shown))
                    } else {
                        print("operator \(account.name) added (\(OperatorOutput.rolesText(account)))")
                        if let shown { print("password: \(shown)  (shown once: only its hash is stored)") }
                    }
                }
            }
        }

        /// 20 characters from a 55-letter alphabet without look-alikes (about 115 bits).
        static func generatedPassword() throws -> String {
            let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789ABCDEFGHJKLMNPQRSTUVWXYZ")
            let bytes: [UInt8]
            do { bytes = try SecureRandom.bytes(40) } catch { throw CLIError.failure("no random bytes: \(error.message)") }
            // Rejection sampling keeps every letter equally likely.
            let limit = 256 - 256 % alphabet.count
            var letters: [Character] = []
            var pool = bytes
            while letters.count < 20 {
                if pool.isEmpty {
                    do { pool = try SecureRandom.bytes(40) } catch { throw CLIError.failure("no random bytes: \(error.message)") }
                }
                let byte = Int(pool.removeLast())
                if byte < limit { letters.append(alphabet[byte % alphabet.count]) }
            }
            return String(letters)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List operators, their roles and whether they have TOTP (no password hashes or secrets).")

        @OptionGroup var options: DataOptions
        @Flag(help: "Print one JSON document.") var json = false

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                let accounts = try await options.withStore { catalog in try await catalog.operators() }
                if json {
                    try CatalogCommandSupport.printJSON(["operators": accounts.map { OperatorOutput(account: $0, password: nil) }])
                    return
                }
                CatalogCommandSupport.printTable(
                    header: ["NAME", "ROLES", "TOTP", "CREATED"],
                    rows: accounts.map {
                        [$0.name, OperatorOutput.rolesText($0), $0.totp ? "yes" : "no", CatalogCommandSupport.format($0.createdAt)]
                    })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an operator (audited); its console sessions end with it, on every node.")

        @OptionGroup var options: DataOptions
        @Argument(help: "The operator's name.") var name: String

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                try await options.withStore { catalog in try await catalog.removeOperator(name: name, actor: "cli", at: Date()) }
                print("operator \(name) removed")
            }
        }
    }

    /// Ends every console session of an operator on every node sharing the catalog (a lost laptop, a
    /// password that may have leaked): the next request of each asks to sign in again.
    struct SignOut: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sign-out",
            abstract: "End every console session of an operator, on every node (audited operator.signed_out).")

        @OptionGroup var options: DataOptions
        @Argument(help: "The operator's name.") var name: String

        func run() async throws {
            try await CatalogCommandSupport.runAsync {
                let ended = try await options.withStore { catalog in
                    guard try await catalog.operatorCredentials(name: name) != nil else {
                        throw CatalogError(.notFound, "no operator named \(name)")
                    }
                    return try await catalog.endConsoleSessions(id: nil, operatorName: name, actor: "cli", at: Date())
                }
                print("\(ended) console session\(ended == 1 ? "" : "s") of \(name) ended")
            }
        }
    }
}

/// An operator as `operator add --json` and `operator list --json` print it.
struct OperatorOutput: Encodable {
    let name: String
    let globalAdmin: Bool
    let roles: [String: String]
    let createdAt: Date
    /// Whether sign-in asks for a TOTP code (`operator totp enable`).
    let totp: Bool
    /// Only from `add` without `--password-stdin`: the generated password, shown once.
    let password: String?

    init(account: OperatorAccount, password: String?) {
        name = account.name
        globalAdmin = account.globalAdmin
        roles = account.roles.mapValues(\.rawValue)
        createdAt = account.createdAt
        totp = account.totp
        self.password = password
    }

    static func rolesText(_ account: OperatorAccount) -> String {
        var parts = account.roles.sorted { $0.key < $1.key }.map { "\($0.value.rawValue) of \($0.key)" }
        if account.globalAdmin { parts.insert("global admin", at: 0) }
        return parts.joined(separator: ", ")
    }
}
