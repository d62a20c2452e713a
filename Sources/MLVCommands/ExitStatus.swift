// The exit-status contract (also in mlv(1)) and the one table from an error's category to
// its status.
import MLVCore

/// Exit statuses: a contract for scripts, also listed in mlv(1) (keep them in step).
public enum ExitStatus: Int32, CaseIterable {
    /// Also `mlv diff` with warnings: a table it could not parse (a ragged row, an unclosed
    /// quote) or that is past its limits gets a byte-level summary and a warning (stderr and
    /// the report); the rest of the report is complete, so the status stays 0, or 1 with
    /// `--exit-code` (that table changed, or it would not be compared at all).
    case success = 0
    /// `mlv status --exit-code` found changes; `mlv commit` had nothing to commit.
    case differences = 1
    /// Bad input: not a repository, unknown revision, bad path, malformed pointer or config;
    /// `mlv diff --fail-on 'drift(PATH) ...'` over a table that could not be compared (its
    /// drift is unknown: the gate can neither pass nor fire), after the report is printed.
    case userError = 2
    /// Refused to overwrite uncommitted work (data or code); nothing was changed.
    case refused = 3
    /// The store is damaged or lacks data: corrupt pack or index, missing object.
    case integrity = 4
    /// The operating system failed a read or write: disk full, permission denied.
    case ioError = 5
    /// `mlv repro`: a stage's command failed or was interrupted; nothing was recorded.
    case runFailed = 6
    /// `mlv repro --verify`: a stage's outputs differ from its committed record.
    case verifyFailed = 7
    /// `mlv diff --fail-on`: 10 when the first gate held, 11 the second, and so on.
    case gateFired = 10
    /// Command-line usage error (unknown option, missing argument).
    case usage = 64

    /// The status of the gate at position `i` (0-based) of `--fail-on`: 10 + i, at most 99.
    public static func gate(_ i: Int) -> Int32 { gateFired.rawValue + Int32(min(max(i, 0), 89)) }

    public var meaning: String {
        switch self {
        case .success: return "success (mlv diff: the report is complete; a table that does not parse is summarised by bytes, with a warning)"
        case .differences: return "differences found (status --exit-code), or nothing to commit"
        case .userError: return "bad input: not a repository, unknown revision or path, malformed pointer or config; a --fail-on gate on a table that could not be compared"
        case .refused: return "refused to overwrite uncommitted data or code; nothing changed"
        case .integrity: return "store damaged or incomplete: corrupt pack or index, missing object"
        case .ioError: return "the system failed a read or write: disk full, permission denied"
        case .runFailed: return "a stage's command failed or was interrupted (mlv repro); nothing recorded, previous outputs kept"
        case .verifyFailed: return "mlv repro --verify: a re-run did not reproduce its committed record"
        case .gateFired: return "a --fail-on gate of mlv diff held (10 + its position: 10 the first, 11 the second…)"
        case .usage: return "command-line usage error"
        }
    }
}

/// Maps an error to its one-line message and exit status: every module's error types declare
/// their category (MLVSystem's `CategorizedError`); this is the one table from category to
/// status. Errors that are not categorized (ArgumentParser's, Foundation's) return nil.
func classify(_ error: any Error) -> (String, ExitStatus)? {
    guard let e = error as? any CategorizedError else { return nil }
    return (userMessage(for: e), ExitStatus(e.category))
}

extension ExitStatus {
    init(_ category: ErrorCategory) {
        switch category {
        case .input: self = .userError
        case .refused: self = .refused
        case .integrity: self = .integrity
        case .system: self = .ioError
        case .commandFailed: self = .runFailed
        case .nothingToDo: self = .differences
        }
    }
}
