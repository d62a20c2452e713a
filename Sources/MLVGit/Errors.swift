// How libgit2's failures become Swift errors: `GitError`, the one `check` that reads
// libgit2's last error right after the failing call, and the category that says whether a
// failure is the user's input (exit 2) or the operating system's (exit 5).
import MLVSystem
import CGit2
import Glibc

public struct GitError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let code: Int32
    public let message: String
    /// The operating system failed a read or write (disk full, permission denied), as
    /// opposed to git refusing bad input: libgit2's error class `GIT_ERROR_OS` or `GIT_ERROR_NOMEMORY`, or a file
    /// write of this module's own. The CLI maps it to the I/O exit status.
    public let isSystemFailure: Bool
    /// `commit` made a commit that HEAD does not show (seen on a full disk): the caller knows
    /// what is safe to run again and adds it to the message.
    public let isUnrecordedCommit: Bool

    public init(operation: String, code: Int32, message: String, isSystemFailure: Bool = false, isUnrecordedCommit: Bool = false) {
        self.operation = operation
        self.code = code
        self.message = message
        self.isSystemFailure = isSystemFailure
        self.isUnrecordedCommit = isUnrecordedCommit
    }

    public var description: String {
        if message.isEmpty { return "git \(operation) failed (code \(code))" }
        guard isSystemFailure && code != -1 else { return message }
        // libgit2's own OS errors rarely name the file: say which git step failed, and the fix.
        let full = message.contains("No space left") ? "; free some disk space and run the command again" : ""
        return "git \(operation): \(message)\(full)"
    }

    public var isNotFound: Bool { code == GIT_ENOTFOUND.rawValue }
    /// A checkout refused for local changes or files in the way (`GIT_ECONFLICT`): libgit2
    /// finds these while planning, before it writes anything.
    public var isConflict: Bool { code == GIT_ECONFLICT.rawValue }
}

/// The error libgit2 recorded for the call that just returned `code` (`git_error_last`). It
/// is thread-local and the next libgit2 call overwrites it: call this right after the
/// failing call, before any other. An error of class `GIT_ERROR_OS` (a read or write the
/// operating system failed) or `GIT_ERROR_NOMEMORY` is a system failure.
private func lastError(_ code: Int32, _ operation: String) -> GitError {
    var message = "", system = false
    if let e = git_error_last() {
        if let m = e.pointee.message { message = String(cString: m) }
        system = e.pointee.klass == Int32(GIT_ERROR_OS.rawValue) || e.pointee.klass == Int32(GIT_ERROR_NOMEMORY.rawValue)
    }
    return GitError(operation: operation, code: code, message: message, isSystemFailure: system)
}

/// Every libgit2 return code goes through here: a negative one is thrown as a `GitError`
/// with libgit2's message for it.
@discardableResult
func check(_ code: Int32, _ operation: String) throws -> Int32 {
    guard code < 0 else { return code }
    throw lastError(code, operation)
}

/// For the calls whose failure mlv tolerates (a reflog that cannot be read is skipped, a
/// history walk stops where it cannot go on, `GIT_ITEROVER` ends an iteration): a failure
/// of the operating system is still thrown, since skipping what could not be read would
/// make gc or log act on less than is there; any other failure returns its code.
@discardableResult
func checkSystem(_ code: Int32, _ operation: String) throws -> Int32 {
    // libgit2 returns GIT_ERROR (-1) for an OS failure; the specific codes (not found, end of
    // iteration) are never one, and their last error may be an older call's.
    guard code == GIT_ERROR.rawValue else { return code }
    let e = lastError(code, operation)
    if e.isSystemFailure { throw e }
    return code
}

extension GitError: CategorizedError {
    public var category: ErrorCategory { isSystemFailure ? .system : .input }
}
