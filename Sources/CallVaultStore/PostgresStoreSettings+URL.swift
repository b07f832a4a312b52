public import CallVaultModel
import Foundation

extension PostgresStoreSettings {
    /// Settings from a connection URL, `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=MODE]`, and the
    /// password from elsewhere (`PGPASSWORD` or a 0600 file: never the URL, which ends up in shell
    /// history, process lists and `database.json`).
    ///
    /// `sslmode` is libpq's: `disable`, `prefer` (the default), `require`, `verify-ca`, `verify-full`.
    /// Whenever TLS is used CallVault verifies the server's certificate chain and host name against the
    /// system's trust store, so `require` and `verify-ca` mean `verify-full` here: a connection that
    /// could be intercepted is not accepted quietly. Unknown parameters are refused by name.
    public init(url: String, password: String?) throws(CatalogError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else {
            throw CatalogError(
                .invalidArgument, "the database URL must look like postgres://USER@HOST:PORT/DATABASE")
        }
        guard components.password == nil else {
            throw CatalogError(
                .invalidArgument,
                "the database URL must not hold a password (it would be kept in shell history and database.json): "
                    + "give it in PGPASSWORD or a password file")
        }
        guard let user = components.user, !user.isEmpty else {
            throw CatalogError(.invalidArgument, "the database URL names no user: postgres://USER@HOST:PORT/DATABASE")
        }
        guard let host = components.host, !host.isEmpty else {
            throw CatalogError(.invalidArgument, "the database URL names no host: postgres://USER@HOST:PORT/DATABASE")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw CatalogError(
                .invalidArgument, "the database URL names no database: postgres://USER@HOST:PORT/DATABASE")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw CatalogError(.invalidArgument, "the database URL's port \(port) is not between 1 and 65535")
        }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch (item.name, item.value) {
            case ("sslmode", "disable"): tls = .disable
            case ("sslmode", "prefer"), ("sslmode", "allow"): tls = .prefer
            case ("sslmode", "require"), ("sslmode", "verify-ca"), ("sslmode", "verify-full"): tls = .require
            case ("sslmode", let value):
                throw CatalogError(
                    .invalidArgument,
                    "sslmode=\(value ?? "") is not one of disable, prefer, require, verify-ca, verify-full")
            default:
                throw CatalogError(
                    .invalidArgument, "the database URL's parameter \(item.name) is not supported (only sslmode is)")
            }
        }
        self.init(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// The URL that names this database, without a password: what `database.json` keeps.
    public var url: String {
        var text = "postgres://\(username)@\(host):\(port)/\(database)"
        if tls != .prefer { text += "?sslmode=\(tls.rawValue)" }
        return text
    }
}
