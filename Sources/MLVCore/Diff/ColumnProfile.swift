// Column statistics of one side of a table diff: the inferred type (`ColumnType`), the
// statistics a report shows (`ColumnStats`), the accumulator that computes them in one pass
// (`ColumnProfile`), the value classifiers it uses (nulls, dates, numbers), the HyperLogLog
// fallback of distinct counts, the reservoir sample and drift (PSI). Exact medians: Median.swift.
import Glibc

/// Inferred type of a column: the narrowest that fits every non-null value.
public enum ColumnType: String, Codable, Sendable, Comparable {
    case empty, bool, integer, float, datetime, string

    public static func < (a: ColumnType, b: ColumnType) -> Bool { a.rank < b.rank }
    private var rank: Int {
        switch self {
        case .empty: return 0
        case .bool: return 1
        case .integer: return 2
        case .float: return 3
        case .datetime: return 4
        case .string: return 5
        }
    }

    /// The type that holds both: integer and float widen to float, anything else mixed is a string.
    func merged(_ o: ColumnType) -> ColumnType {
        if self == o || o == .empty { return self }
        if self == .empty { return o }
        if (self == .integer && o == .float) || (self == .float && o == .integer) { return .float }
        return .string
    }
}

/// Per-column statistics of one side.
public struct ColumnStats: Codable, Sendable, Equatable {
    /// Position of the column in this version's header, from 0 (names may repeat).
    public var index: Int
    public var type: ColumnType
    public var count: Int          // non-null values
    public var nulls: Int
    /// Distinct non-null values: exact (see `DistinctPool`), or past its disk limit a
    /// HyperLogLog estimate, with `distinctExact` false and its relative standard error.
    public var distinct: Int
    public var distinctExact: Bool
    public var distinctError: Double?
    public var mean: Double?
    public var std: Double?
    public var min: String?
    public var max: String?
    /// The median of the numeric values: exact (`ExactMedian`, `medianExact` true), or past
    /// the diff's median memory the median of a reservoir sample of 4,096 values
    /// (`medianExact` false, `≈`). Nil, with `medianExact`, for a column without numbers.
    public var median: Double?
    public var medianExact: Bool?

    enum CodingKeys: String, CodingKey {
        case index, type, count, nulls, distinct, mean, std, min, max, median
        case medianExact = "median_exact"
        case distinctExact = "distinct_exact"
        case distinctError = "distinct_error"
    }
}

/// Accumulates one column: type inference, nulls, exact distinct count, Welford mean and
/// variance, min/max, every numeric value within the diff's median memory (for the exact
/// median), and a fixed-size reservoir sample (for drift bins, and the median past that memory).
struct ColumnProfile {
    var type = ColumnType.empty
    var count = 0
    var nulls = 0
    /// Shared by the copies of this profile: a class, owned by `pool` for spilling.
    let distinct: DistinctCounter
    var numeric = 0
    /// Mean and variance are taken of the values minus the first one (exactly, for integers
    /// within Int64): Welford on the values themselves lost the digits of huge values with a
    /// small spread (ids above 2^53 gave a std of 27.9 for 14.6).
    var shift = 0.0, shiftInt: Int64? = nil
    var shiftedMean = 0.0, m2 = 0.0
    /// The exact sum while every value is an integer within Int64: the mean is then the
    /// correctly rounded quotient.
    /// The exact sum of an all-integer column: Int64 while it fits, Int128 past that (adding
    /// into an Int128 every time is a generic, slow conversion per cell).
    var intSum: Int128 = 0, intSumSmall: Int64 = 0, allIntegers = true
    var minNumber = Double.infinity, maxNumber = -Double.infinity
    var minInt: Int64? = nil, maxInt: Int64? = nil
    /// The cells holding the smallest and largest number, as written: min and max print the
    /// file's text (a double would turn 9007199254740993 into ...992).
    var minNumberText: [UInt8]? = nil, maxNumberText: [UInt8]? = nil
    var minText: [UInt8]? = nil, maxText: [UInt8]? = nil
    var sample = Reservoir(capacity: 4096, seed: 0x6d6c76)
    var exactMedian: ExactMedian
    /// Value counts for categorical drift, by the value's 128-bit identity (`cellHash128`: two
    /// values never share a count by a 64-bit accident), capped at `categoryLimit` distinct values.
    var categories: [Cell128: Int] = [:]
    var otherCategories = 0

    static let categoryLimit = 2000

    init(pool: DistinctPool, medians: MedianPool) {
        distinct = pool.makeCounter()
        exactMedian = ExactMedian(pool: medians)
    }

    /// One profile per column (each with a counter of its own).
    static func columns(_ n: Int, pool: DistinctPool, medians: MedianPool) -> [ColumnProfile] {
        (0..<n).map { _ in ColumnProfile(pool: pool, medians: medians) }
    }

    mutating func add(_ v: ArraySlice<UInt8>) {
        if isNull(v) { nulls += 1; return }
        count += 1
        let (h, h2) = cellHash128(v)
        distinct.add(h, h2, estimateHash: murmur3(v).0)
        let t: ColumnType
        if let n = parseNumber(v) {
            t = n.isInteger ? .integer : .float
            numeric += 1
            let x = n.value
            if numeric == 1 { shift = x; shiftInt = n.int }
            let d: Double
            if let xi = n.int, let si = shiftInt {
                // Int64 first: Double(Int128) is a generic conversion, several times slower.
                let (diff, overflow) = xi.subtractingReportingOverflow(si)
                d = overflow ? Double(Int128(xi) - Int128(si)) : Double(diff)
            }
            else { d = x - shift }
            let delta = d - shiftedMean
            shiftedMean += delta / Double(numeric)
            m2 += delta * (d - shiftedMean)
            if let xi = n.int {
                let (sum, overflow) = intSumSmall.addingReportingOverflow(xi)
                if overflow { intSum += Int128(intSumSmall) + Int128(xi); intSumSmall = 0 } else { intSumSmall = sum }
            } else { allIntegers = false }
            // Integers compare exactly (two ids above 2^53 can share a double).
            func less(_ a: Double, _ ai: Int64?, _ b: Double, _ bi: Int64?) -> Bool {
                if let ai, let bi { return ai < bi }
                return a < b
            }
            if minNumberText == nil || less(x, n.int, minNumber, minInt) { minNumber = x; minInt = n.int; minNumberText = Array(v) }
            if maxNumberText == nil || less(maxNumber, maxInt, x, n.int) { maxNumber = x; maxInt = n.int; maxNumberText = Array(v) }
            sample.add(x, exact: n.int)
            exactMedian.add(x, exact: n.int)
        } else {
            t = isBool(v) ? .bool : (isDateTime(v) ? .datetime : .string)
            if minText == nil || bytesBefore(v, minText![...]) { minText = Array(v) }
            if maxText == nil || bytesBefore(maxText![...], v) { maxText = Array(v) }
        }
        type = type.merged(t)
        if t != .integer && t != .float {
            let key = Cell128(a: h, b: h2)
            if categories[key] != nil || categories.count < ColumnProfile.categoryLimit { categories[key, default: 0] += 1 }
            else { otherCategories += 1 }
        }
    }

    /// Takes the exact median and frees the values it needed (before `stats`, on the
    /// profile itself: a copy would copy them).
    mutating func finishMedian() { exactMedian.finish() }

    /// The statistics of the column at `index` (throws if a distinct-count spill file failed).
    func stats(index: Int) throws -> ColumnStats {
        let isNumeric = (type == .integer || type == .float) && numeric > 0
        let d = try distinct.total()
        return ColumnStats(
            index: index, type: type, count: count, nulls: nulls, distinct: d,
            distinctExact: distinct.exact, distinctError: distinct.exact ? nil : HyperLogLog.relativeError,
            mean: isNumeric ? (allIntegers ? roundedQuotient(intSum + Int128(intSumSmall), numeric) : shift + shiftedMean) : nil,
            std: isNumeric && numeric > 1 ? (m2 / Double(numeric - 1)).squareRoot() : (isNumeric ? 0 : nil),
            min: (isNumeric ? minNumberText : minText).map { String(decoding: $0, as: UTF8.self) },
            max: (isNumeric ? maxNumberText : maxText).map { String(decoding: $0, as: UTF8.self) },
            median: isNumeric ? (exactMedian.median ?? sample.median) : nil,
            medianExact: isNumeric ? exactMedian.kept : nil)
    }
}

/// Empty cells and the usual spellings of missing values.
func isNull(_ v: ArraySlice<UInt8>) -> Bool {
    switch v.count {
    case 0: return true
    case 2: return v.elementsEqual("NA".utf8)
    case 3: return v.elementsEqual("NaN".utf8) || v.elementsEqual("nan".utf8) || v.elementsEqual("N/A".utf8)
    case 4: return v.elementsEqual("null".utf8) || v.elementsEqual("NULL".utf8) || v.elementsEqual("None".utf8)
    default: return false
    }
}

func isBool(_ v: ArraySlice<UInt8>) -> Bool {
    // "true" / "false" in any case, compared without building a String.
    func eq(_ word: StaticString) -> Bool {
        guard v.count == word.utf8CodeUnitCount else { return false }
        var i = v.startIndex
        for j in 0..<word.utf8CodeUnitCount {
            if v[i] | 0x20 != word.utf8Start[j] { return false }
            i += 1
        }
        return true
    }
    return eq("true") || eq("false")
}

/// ISO-8601-like dates and timestamps: YYYY-MM-DD, optionally followed by a time.
func isDateTime(_ v: ArraySlice<UInt8>) -> Bool {
    guard v.count >= 10 else { return false }
    let s = v.startIndex
    func digit(_ i: Int) -> Bool { v[s + i] >= 48 && v[s + i] <= 57 }
    guard digit(0), digit(1), digit(2), digit(3), v[s + 4] == 45, digit(5), digit(6), v[s + 7] == 45, digit(8), digit(9) else { return false }
    return v.count == 10 || v[s + 10] == UInt8(ascii: "T") || v[s + 10] == UInt8(ascii: " ")
}

/// A decimal number (what strtod takes, minus hex, inf and nan), whether it is an integer,
/// and for an integer within Int64 its exact value.
func parseNumber(_ v: ArraySlice<UInt8>) -> (value: Double, isInteger: Bool, int: Int64?)? {
    guard !v.isEmpty, v.count < 64 else { return nil }
    var integer = true
    var digits = 0
    var magnitude: Int64 = 0
    var wide: UInt64 = 0, fits = true     // the magnitude past 18 digits, while it fits
    var negative = false
    var i = v.startIndex
    for c in v {
        switch c {
        case 48...57:
            digits += 1
            if integer && digits <= 18 { magnitude = magnitude * 10 + Int64(c - 48) }
            if integer && fits {
                let (m, o1) = wide.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(UInt64(c - 48))
                if o1 || o2 { fits = false } else { wide = s }
            }
        case UInt8(ascii: "-"), UInt8(ascii: "+"):
            if i == v.startIndex { negative = c == UInt8(ascii: "-") }
            else if v[i - 1] | 0x20 != UInt8(ascii: "e") { return nil }
            else { integer = false }
        case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): integer = false
        default: return nil
        }
        i += 1
    }
    guard digits > 0 else { return nil }
    // Integers up to 18 digits without strtod; everything else through it, from a stack buffer.
    if integer && digits <= 18 { let m = negative ? -magnitude : magnitude; return (Double(m), true, m) }
    var exact: Int64? = nil
    if integer && fits {
        if negative { exact = wide <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- wide) : nil }
        else { exact = wide <= UInt64(Int64.max) ? Int64(wide) : nil }
    }
    let x = withUnsafeTemporaryAllocation(of: CChar.self, capacity: v.count + 1) { buf -> Double in
        var j = 0
        for c in v { buf[j] = CChar(bitPattern: c); j += 1 }
        buf[j] = 0
        var end: UnsafeMutablePointer<CChar>? = nil
        let r = strtod(buf.baseAddress!, &end)
        return end == buf.baseAddress! + v.count ? r : .nan
    }
    guard x.isFinite else { return nil }
    // An integer within Int64 converts exactly rounded from its exact value (as strtod does).
    return (exact.map { Double($0) } ?? x, integer, exact)
}

/// HyperLogLog with 2^12 registers, with linear counting for small counts: the fallback of
/// `DistinctCounter` past its disk limit.
struct HyperLogLog {
    private var registers = [UInt8](repeating: 0, count: 4096)
    /// Relative standard error, 1.04 / sqrt(2^12).
    static let relativeError = 0.01625

    mutating func add(_ hash: UInt64) {
        let index = Int(hash >> 52)
        let rank = UInt8(((hash << 12) | (1 << 11)).leadingZeroBitCount + 1)
        if rank > registers[index] { registers[index] = rank }
    }

    var estimate: Int {
        let m = 4096.0
        var sum = 0.0
        var zeros = 0
        for r in registers {
            sum += pow(2.0, -Double(r))
            if r == 0 { zeros += 1 }
        }
        let raw = 0.7213 / (1 + 1.079 / m) * m * m / sum
        if raw <= 2.5 * m && zeros > 0 { return Int((m * log(m / Double(zeros))).rounded()) }
        return Int(raw.rounded())
    }
}

/// Reservoir sampling (Vitter's algorithm R) with a fixed seed: the same input gives the same
/// sample, so reports are reproducible.
struct Reservoir {
    let capacity: Int
    private(set) var values: [Double] = []
    private var seen = 0
    private var state: UInt64

    init(capacity: Int, seed: UInt64) {
        self.capacity = capacity
        state = seed
    }

    /// The sampled values' exact integers, while every value added is one within Int64: the
    /// median of two huge ids is then the rounded exact midpoint, not that of two rounded doubles.
    private var ints: [Int64]? = []

    mutating func add(_ x: Double, exact: Int64? = nil) {
        seen += 1
        if exact == nil { ints = nil }
        if values.count < capacity { values.append(x); if let exact { ints?.append(exact) }; return }
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let j = Int((state >> 33) % UInt64(seen))
        if j < capacity { values[j] = x; if let exact { ints?[j] = exact } }
    }

    var median: Double? {
        guard !values.isEmpty else { return nil }
        if var ints, ints.count == values.count { return medianOfIntegers(&ints) }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// Population stability index of two samples over ten bins cut at the first sample's deciles.
func numericPSI(_ a: [Double], _ b: [Double]) -> Double? {
    guard a.count >= 10, !b.isEmpty else { return nil }
    let s = a.sorted()
    var edges: [Double] = []
    for q in 1..<10 { edges.append(s[q * s.count / 10]) }
    func histogram(_ xs: [Double]) -> [Double] {
        var h = [Double](repeating: 0, count: 10)
        for x in xs {
            var lo = 0, hi = edges.count
            while lo < hi { let m = (lo + hi) / 2; if x <= edges[m] { hi = m } else { lo = m + 1 } }
            h[lo] += 1
        }
        return h.map { $0 / Double(xs.count) }
    }
    return psi(histogram(a), histogram(b))
}

/// PSI over categories (values outside the tracked categories pooled as one).
/// A value's 128-bit identity (see `cellHash128`), ordered so that category order is stable.
struct Cell128: Hashable, Comparable {
    let a: UInt64, b: UInt64
    static func < (x: Cell128, y: Cell128) -> Bool { (x.a, x.b) < (y.a, y.b) }
}

func categoricalPSI(_ a: [Cell128: Int], _ aOther: Int, _ b: [Cell128: Int], _ bOther: Int) -> Double? {
    let ta = a.values.reduce(aOther, +), tb = b.values.reduce(bOther, +)
    guard ta > 0, tb > 0 else { return nil }
    // Summed in the order of the shares, not of the hashes (keyed afresh in each run), so
    // that the figure is the same to the last digit every time.
    var shares = Set(a.keys).union(b.keys).map { (Double(a[$0] ?? 0) / Double(ta), Double(b[$0] ?? 0) / Double(tb)) }
    shares.sort { $0 < $1 }
    shares.append((Double(aOther) / Double(ta), Double(bOther) / Double(tb)))
    return psi(shares.map(\.0), shares.map(\.1))
}

/// Σ (b − a) · ln(b / a), with empty bins floored at 1e-4 so the sum stays finite.
func psi(_ a: [Double], _ b: [Double]) -> Double {
    var total = 0.0
    for (x, y) in zip(a, b) where x > 0 || y > 0 {
        let p = max(x, 1e-4), q = max(y, 1e-4)
        total += (q - p) * log(q / p)
    }
    return total
}

/// Byte-wise order (memcmp, then length), without the generic sequence machinery.
func bytesBefore(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in memcmp(x.baseAddress!, y.baseAddress!, n) } }
        if c != 0 { return c < 0 }
    }
    return a.count < b.count
}

/// `num / den` correctly rounded to a double (ties to even): the mean of integers exactly as
/// Python's `statistics.mean` (exact fractions) gives it. Long division to 55 significant
/// bits, with the remainder as the sticky bit.
func roundedQuotient(_ num: Int128, _ den: Int) -> Double {
    guard den > 0 else { return .nan }
    let d = UInt128(den)
    var q = num.magnitude / d, r = num.magnitude % d
    var exponent = 0
    while q < (UInt128(1) << 54) && (q != 0 || r != 0) {
        r <<= 1
        q <<= 1
        if r >= d { q |= 1; r -= d }
        exponent -= 1
    }
    if q == 0 { return 0 }
    let drop = (128 - q.leadingZeroBitCount) - 53
    var m = q >> drop
    let rest = q & ((UInt128(1) << drop) - 1), half = UInt128(1) << (drop - 1)
    if rest > half || (rest == half && (r != 0 || m & 1 == 1)) { m += 1 }
    let v = Double(sign: .plus, exponent: drop + exponent, significand: Double(m))
    return num < 0 ? -v : v
}
