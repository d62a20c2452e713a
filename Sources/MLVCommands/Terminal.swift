// What only a terminal gets: the progress line on stderr and the pager for long reports.
import Foundation
import MLVCore

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

/// Long reports on a terminal go through a pager, as git does: `$MLV_PAGER`, else `$PAGER`,
/// else `less -FRX` (quit when it fits on one screen, keep colours, leave the text on the
/// screen). Never when stdout is not a terminal (a pipe, a file, CI), nor with `--no-pager`,
/// nor when the pager is set to "" or `cat`.
enum Pager {
    /// The help of every command's `--no-pager`.
    static let noPagerHelp = "Print to stdout even on a terminal (by default a terminal gets the pager: $MLV_PAGER, $PAGER or `less -FRX`)."

    /// The command to run, or nil to print directly.
    static func command(environment env: [String: String], stdoutIsTerminal: Bool) -> String? {
        guard stdoutIsTerminal else { return nil }
        let chosen = env["MLV_PAGER"] ?? env["PAGER"]
        if let c = chosen?.trimmingCharacters(in: .whitespaces) { return c.isEmpty || c == "cat" ? nil : c }
        // The default only where it exists: a machine without less prints directly.
        return lookUpExecutable("less", searchPath: env["PATH"]) != nil ? "less -FRX" : nil
    }

    /// Prints `text`, through the pager when there is one. A pager quit early (`q` in less)
    /// ends the output, not mlv: the exit status stays the report's.
    static func show(_ text: String, allowed: Bool) {
        let env = ProcessInfo.processInfo.environment
        guard allowed, let cmd = command(environment: env, stdoutIsTerminal: isatty(1) != 0) else {
            print(text, terminator: "")
            return
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", cmd]
        var childEnv = env
        // git's defaults for less and lv when the user set none.
        if childEnv["LESS"] == nil { childEnv["LESS"] = "FRX" }
        if childEnv["LV"] == nil { childEnv["LV"] = "-c" }
        p.environment = childEnv
        let pipe = Pipe()
        p.standardInput = pipe
        do { try p.run() } catch {
            print(text, terminator: "")
            return
        }
        // Writing to a pager that has quit must not kill mlv with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let fd = pipe.fileHandleForWriting.fileDescriptor
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            off += n
        }
        try? pipe.fileHandleForWriting.close()
        p.waitUntilExit()
    }
}
