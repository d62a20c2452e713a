// IOError: the one error type of the operating-system layer. Its category is I/O (exit 5).
#if canImport(Glibc)
import Glibc
#endif

/// An I/O failure with the path and the operation, rendered as one line.
public struct IOError: Error, CustomStringConvertible, Equatable {
    public let op: String
    public let path: String
    public let code: Int32

    public init(_ op: String, _ path: String, code: Int32 = Glibc.errno) {
        self.op = op
        self.path = path
        self.code = code
    }

    /// The operation of a refusal by `openRead(regularOnly:followLinks:)`.
    public static let notRegularOp = "open (not a regular file)"
    /// True for a path that was not a regular file (or was a link, where links are refused).
    public var isNotRegularFile: Bool { op == IOError.notRegularOp }

    public var description: String {
        let why = String(cString: strerror(code))
        if code == ENOSPC { return "\(path): \(op) failed: \(why) (free some disk space and run the command again)" }
        return "\(path): \(op) failed: \(why)"
    }
}
