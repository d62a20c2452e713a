// Where output goes (stdout, stderr with control characters escaped, JSON) and the
// number formats every renderer shares (bytes, grouped digits, padding).
import Foundation
import MLVCore

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

/// "1 file", "2 files" (the rule is MLVSystem's, reached through MLVCore's `Wording`).
func counted<N: BinaryInteger>(_ n: N, _ singular: String, _ plural: String? = nil) -> String { Wording.counted(n, singular, plural) }

/// The noun alone, for counts printed in another form ("1,204 rows").
func noun<N: BinaryInteger>(_ n: N, _ singular: String, _ plural: String? = nil) -> String { Wording.noun(n, singular, plural) }
