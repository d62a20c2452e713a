// Numbers kept exactly as a user's file wrote them (`ExactNumber`): metrics, params, JSON cells.
import Foundation

/// A number read from a user's file (metrics, params, JSON cells), kept exactly. A double
/// alone cannot do it: 9007199254740993 has no double, and a reader that rounds its way to
/// one (JSONSerialization on Linux turned 0.9661181624506228 into 0.9661181624506231) changes
/// what the user wrote.
///
/// `text` is what mlv prints, in every format: the file's own spelling when that is a JSON
/// number (`0.30000000000000004`, `-0.0`, `1e-320`, `9007199254740993`), else the shortest
/// text that reads back as the same double (YAML's `+.5`, `0x1F`, `1_000`), and for the values
/// JSON has no number for, `NaN`, `Infinity` and `-Infinity` (in mlv's JSON output: strings).
/// `value` is the double, for arithmetic.
public struct ExactNumber: Sendable, Hashable, Codable, CustomStringConvertible,
                           ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    public let text: String
    public let value: Double

    /// A computed double (a delta, a statistic): its shortest round-trip text.
    public init(_ d: Double) {
        text = ExactNumber.shortest(d)
        value = d
    }

    public init(floatLiteral v: Double) { self.init(v) }
    public init(integerLiteral v: Int) { text = String(v); value = Double(v) }

    /// Text already known to be a JSON number (the reader checked it).
    init(jsonNumber t: String) {
        text = t
        // Swift's Double(String) rounds correctly (strtod); past the largest double it is ±inf.
        value = Double(t) ?? (t.hasPrefix("-") ? -.infinity : .infinity)
    }

    /// A number in a file whose own syntax already decided it is one (a CSV cell, a YAML
    /// scalar resolved as int or float): its text when that is a JSON number, else the exact
    /// integer (`int`), else the double (`double`, default: Swift's reading of the text).
    /// nil when the text is not a number.
    public init?(parsing t: String, int: Int? = nil, double: Double? = nil) {
        if ExactNumber.isJSONNumber(t) { self.init(jsonNumber: t); return }
        if let i = int { self.init(integerLiteral: i); return }
        guard let d = double ?? Double(t) else { return nil }
        self.init(d)
    }

    public var description: String { text }

    /// How the number is written into JSON: the text, or for NaN and the infinities a string.
    public var jsonText: String { ExactNumber.isJSONNumber(text) ? text : "\"\(text)\"" }

    /// The shortest text that reads back as `d` (integral values without ".0", as
    /// JSONEncoder wrote them), and `NaN`, `Infinity`, `-Infinity`.
    public static func shortest(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return d.sign == .minus ? "-0.0" : "0" }
        var s = d.description   // Swift prints the shortest digits that round-trip
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    /// RFC 8259's number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    public static func isJSONNumber(_ t: String) -> Bool {
        let b = Array(t.utf8)
        var i = 0
        func digits() -> Int { let s = i; while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }; return i - s }
        if i < b.count, b[i] == 0x2D { i += 1 }
        if i < b.count, b[i] == 0x30 { i += 1 } else if digits() == 0 { return false }
        if i < b.count, b[i] == 0x2E { i += 1; if digits() == 0 { return false } }
        if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
            i += 1
            if i < b.count, b[i] == 0x2B || b[i] == 0x2D { i += 1 }
            if digits() == 0 { return false }
        }
        return i == b.count
    }

    /// new − old for a delta: for two integers of up to 38 digits, the exact difference,
    /// rounded once (past 2^53 two different integers can be the same double, and a change
    /// of 1 must not show as 0), else in doubles.
    public static func difference(_ new: ExactNumber, _ old: ExactNumber) -> Double {
        if let a = Int64(old.text), let b = Int64(new.text) {
            let (d, overflow) = b.subtractingReportingOverflow(a)
            if !overflow { return Double(d) }
        }
        // Decimal's 128-bit mantissa holds every integer of 38 digits, and their difference.
        func integer(_ t: String) -> Decimal? {
            let digits = t.hasPrefix("-") ? t.dropFirst() : Substring(t)
            guard !digits.isEmpty, digits.count <= 38, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Decimal(string: t)
        }
        if let a = integer(old.text), let b = integer(new.text), let d = Double((b - a).description) { return d }
        return new.value - old.value
    }

    /// The exact decimal value the text spells, so that `1.0` equals `1` and `0.10` equals
    /// `0.1`, while 9007199254740993 differs from 9007199254740992 (the same double) and -0.0
    /// from 0 (printed differently). NaN equals NaN: an unchanged NaN metric is unchanged.
    private var exactKey: String {
        if value.isNaN { return "NaN" }
        let b = Array(text.utf8)
        guard ExactNumber.isJSONNumber(text) else { return text }
        var i = 0
        let negative = b.first == 0x2D
        if negative { i += 1 }
        var digits: [UInt8] = []
        var fraction = 0
        while i < b.count, b[i] != 0x65, b[i] != 0x45 {
            if b[i] == 0x2E { i += 1; while i < b.count, b[i] != 0x65, b[i] != 0x45 { digits.append(b[i]); fraction += 1; i += 1 }; break }
            digits.append(b[i]); i += 1
        }
        var exponent = 0
        if i < b.count {
            guard let e = Int(String(decoding: b[(i + 1)...], as: UTF8.self)), e > -(Int.max / 4), e < Int.max / 4 else { return text }
            exponent = e
        }
        exponent -= fraction
        while digits.first == 0x30 { digits.removeFirst() }
        while digits.last == 0x30 { digits.removeLast(); exponent += 1 }
        if digits.isEmpty { return negative ? "-0" : "0" }
        return (negative ? "-" : "") + String(decoding: digits, as: UTF8.self) + "e" + String(exponent)
    }

    public static func == (a: ExactNumber, b: ExactNumber) -> Bool { a.exactKey == b.exactKey }
    public func hash(into h: inout Hasher) { h.combine(exactKey) }

    /// Any other encoder gets the double (or the name of a value JSON has no number for);
    /// mlv's own JSON writer (`JSONOutput`) prints `text` itself.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        if value.isFinite { try c.encode(value) } else { try c.encode(text) }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) { self.init(d); return }
        let s = try c.decode(String.self)
        guard let n = ExactNumber.nonFinite(s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(s.debugDescription) is not a number")
        }
        self = n
    }

    /// The names mlv writes for the numbers JSON has none for.
    public static func nonFinite(_ s: String) -> ExactNumber? {
        switch s {
        case "NaN": return ExactNumber(.nan)
        case "Infinity": return ExactNumber(.infinity)
        case "-Infinity": return ExactNumber(-.infinity)
        default: return nil
        }
    }
}
