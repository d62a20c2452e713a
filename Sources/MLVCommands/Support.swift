import MLVSystem
import ArgumentParser
import Foundation
import MLVCore
import MLVGit
import MLVStore
import MLVZstd

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

/// Options every command that works in a repository takes.
struct RepoOptions: ParsableArguments {
    @Option(name: .customShort("C"), help: ArgumentHelp("Run as if mlv was started in <path>.", valueName: "path"))
    var directory: String?

    func cwd() -> String {
        let base = FileManager.default.currentDirectoryPath
        guard let d = directory else { return base }
        return d.hasPrefix("/") ? d : base + "/" + d
    }

    func open() throws -> Workspace {
        let ws = try Workspace.open(cwd: cwd())
        if isatty(2) != 0 { ws.progress = TerminalProgress().update }
        return ws
    }
}

/// One self-overwriting line on stderr for long reads and writes, at most ten times a second,
/// shown only once the work has taken half a second (quick commands stay quiet).
final class TerminalProgress {
    private let start = Date()
    private var last = Date.distantPast
    private var shown = false

    func update(_ what: String, _ done: UInt64, _ total: UInt64) {
        let now = Date()
        if done >= total {
            if shown { Out.errRaw("\r\u{1B}[K") }
            shown = false
            return
        }
        guard now.timeIntervalSince(start) > 0.5, now.timeIntervalSince(last) > 0.1 else { return }
        last = now
        shown = true
        let pct = total > 0 ? Int(100 * done / total) : 0
        Out.errRaw("\r\u{1B}[K\(what): \(pct)% (\(bytes(done)) of \(bytes(total)))")
    }
}

/// -q/--quiet for the commands that act: nothing on stdout; warnings, the way back from
/// anything saved, and errors still go to stderr, and the exit status tells the outcome.
struct QuietOption: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing on stdout (warnings and errors still go to stderr).") var quiet = false

    /// Call first in `run()`.
    func apply() { Out.quiet = quiet }
}

enum Out {
    /// Set by `QuietOption`: `line` prints nothing (JSON, asked for explicitly, still prints).
    nonisolated(unsafe) static var quiet = false

    static func line(_ s: String = "") {
        if quiet { return }
        print(s)
    }

    /// One message line on stderr. Control characters in it (from a file name, a remote's
    /// answer, a hostile pointer) are shown escaped, never sent to the terminal.
    static func err(_ s: String) {
        var visible = ""
        for ch in s.unicodeScalars {
            if (ch.value < 0x20 && ch.value != 0x09 && ch.value != 0x0A) || (0x7F...0x9F).contains(ch.value) {
                visible += "\\u{\(String(ch.value, radix: 16))}"
            } else {
                visible.unicodeScalars.append(ch)
            }
        }
        let b = Array((visible + "\n").utf8)
        _ = b.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func errRaw(_ s: String) {
        let b = Array(s.utf8)
        _ = b.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func json<T: Encodable>(_ value: T) throws {
        print(try jsonText(value))
    }

    /// mlv's JSON: JSONOutput, not JSONEncoder, so numbers from users' files keep their text.
    static func jsonText<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONOutput.encode(value, pretty: true), as: UTF8.self)
    }

    static var stdoutIsTerminal: Bool { isatty(1) != 0 }

    /// Colour only on a terminal, and never with NO_COLOR set to anything (no-color.org).
    static var useColor: Bool { stdoutIsTerminal && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty }
}

/// "1.0 GiB", "412.3 MiB", "17 B".
func bytes(_ n: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var i = 0
    while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
    return i == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[i])
}

/// "10,000,000".
func grouped(_ n: UInt64) -> String {
    let s = String(n)
    var out = ""
    for (i, ch) in s.enumerated() {
        if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return out
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

/// Tells the user when another mlv holds the lock.
func waitingNotice(_ holder: String) { Out.err("mlv: waiting for the repository lock held by \(holder)…") }
