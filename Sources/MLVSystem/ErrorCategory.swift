// Error categories: every module's error types say which kind of failure they are, and the
// command layer turns the kind into an exit status (MLVCommands/ExitStatus.swift holds that
// table). A module never decides an exit code itself, and a new error type cannot silently
// fall through to "differences found": it must conform to say what it is.

/// What kind of failure an error is, from the point of view of a person or a script.
public enum ErrorCategory: Sendable, CaseIterable {
    /// Bad input: not a repository, unknown revision or path, malformed file or config.
    case input
    /// Refused to overwrite uncommitted work or to act on an unfinished state; nothing changed.
    case refused
    /// Stored data is damaged or missing: corrupt pack or index, missing object.
    case integrity
    /// The operating system failed a read or write: disk full, permission denied, lock busy.
    case system
    /// A command mlv ran for the user (a pipeline stage) failed or was interrupted.
    case commandFailed
    /// There was nothing to do (nothing to commit): not a failure, but not success either.
    case nothingToDo
}

/// An error that knows its category. Every error type mlv's modules throw conforms.
public protocol CategorizedError: Error, CustomStringConvertible {
    var category: ErrorCategory { get }
}

extension IOError: CategorizedError {
    public var category: ErrorCategory { .system }
}
