import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP port on 127.0.0.1 that is bound but not listening, held until released: a connection to it is
/// refused, and no other process can take it meanwhile (a port bound, released and connected to later
/// may have been taken by then).
public final class UnusedPort: Sendable {
    public let port: UInt16
    private let socket: Int32

    public init() throws {
        (socket, port) = try Self.bindLoopback()
    }

    deinit { close(socket) }
}

extension UnusedPort {
    /// A TCP socket bound to 127.0.0.1 on a port the system picks, and that port. The caller owns the
    /// descriptor (listen on it, or keep it only to hold the port).
    static func bindLoopback() throws -> (socket: Int32, port: UInt16) {
        #if canImport(Glibc)
            let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            close(fd)
            throw POSIXError(.EADDRNOTAVAIL)
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}
