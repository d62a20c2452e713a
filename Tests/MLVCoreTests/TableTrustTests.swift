import Foundation
import MLVTestSupport
import Testing
@testable import MLVCore

/// A stream that hands its bytes out `size` at a time, so records, quotes and CR LF pairs
/// straddle block ends.
final class ChoppedStream: ByteStream {
    private let bytes: [UInt8]
    private let size: Int
    private var pos = 0
    private var block: [UInt8] = []
    init(_ bytes: [UInt8], size: Int) { self.bytes = bytes; self.size = size }
    func next() throws -> UnsafeRawBufferPointer? {
        guard pos < bytes.count else { return nil }
        block = Array(bytes[pos..<min(bytes.count, pos + size)])
        pos += size
        return block.withUnsafeBytes { $0 }   // `block` lives until the next call
    }
}

/// Random values from a fixed-seed LCG: the tests count what they generated with Set.
struct LCG {
    var x: UInt64
    mutating func next(_ bound: UInt64) -> UInt64 {
        x = x &* 6364136223846793005 &+ 1442695040888963407
        return (x >> 17) % bound
    }
}

func add(_ c: DistinctCounter, _ s: String) {
    let (h1, h2) = murmur3(Array(s.utf8)[...])
    c.add(h1, h2)
}

@Suite struct DistinctCountTests {
    @Test func distinctCountsAreExact() throws {
        // 600 unique ids (HyperLogLog said 588), and a column whose distinct values Set counts.
        var text = "id,sq\n"
        var want = Set<String>()
        for i in 0..<600 {
            let v = String(i * i % 4093)
            want.insert(v)
            text += "\(i * 7919 % 1_000_003),\(v)\n"
        }
        let d = try tdiff("id,sq\n", text)
        let id = try #require(d.stats.first { $0.column == "id" }?.new)
        #expect(id.distinct == 600 && id.distinctExact && id.distinctError == nil)
        #expect(d.stats.first { $0.column == "sq" }?.new?.distinct == want.count)
    }

    @Test func aCounterPastItsMemoryBudgetSpillsAndStaysExact() throws {
        let pool = DistinctPool(budget: 64 << 10, spillDirectory: scratchDirectory("distinct"))
        let c = pool.makeCounter(), small = pool.makeCounter()
        var want = Set<UInt64>()
        var r = LCG(x: 42)
        for i in 0..<200_000 {
            let v = r.next(180_000)
            want.insert(v)
            add(c, "u\(v)")
            add(small, "k\(i % 10)")
        }
        #expect(c.runCount > 10, "the budget holds about 2,900 values: the counter must have spilled")
        #expect(try c.total() == want.count)
        #expect(c.exact)
        #expect(try small.total() == 10 && small.exact)
    }

    /// Tables past 65,536 slots insert in batches; a spill takes the batch still pending.
    @Test func batchedInsertsAndSpillsStayExact() throws {
        let pool = DistinctPool(budget: 4 << 20, spillDirectory: scratchDirectory("distinct"))
        let c = pool.makeCounter()
        var want = Set<UInt64>()
        var r = LCG(x: 9)
        for _ in 0..<600_000 {
            let v = r.next(700_000)
            want.insert(v)
            add(c, String(v))
        }
        #expect(c.runCount >= 2)
        #expect(try c.total() == want.count && c.exact)
    }

    /// A wide table with a small budget spills every column many times: one spill file for
    /// the pool, not a file descriptor per column (4,000 would pass the usual limit of 1,024).
    @Test func aWideTableSpillsThroughOneFile() throws {
        let pool = DistinctPool(budget: 64 << 10, spillDirectory: scratchDirectory("distinct"))
        let counters = (0..<4000).map { _ in pool.makeCounter() }
        for (j, c) in counters.enumerated() {
            for i in 0..<(40 + j % 7) { add(c, "\(j)-\(i)") }
        }
        for (j, c) in counters.enumerated() {
            #expect(try c.total() == 40 + j % 7)
        }
        #expect(counters.contains { $0.runCount > 0 })
    }

    @Test func pastTheDiskLimitTheCountIsAnEstimateMarkedAsSuch() throws {
        let pool = DistinctPool(budget: 64 << 10, maxSpillBytes: 0, spillDirectory: scratchDirectory("distinct"))
        let c = pool.makeCounter(), small = pool.makeCounter()
        for i in 0..<50_000 {
            add(c, "v\(i)")
            add(small, "s\(i % 5)")
        }
        let n = try c.total()
        #expect(!c.exact)
        // A low-cardinality column stays in memory, and exact, while the big one spills.
        #expect(try small.total() == 5 && small.exact)
        #expect(abs(Double(n) - 50_000) / 50_000 < 4 * HyperLogLog.relativeError, "\(n)")
    }
}

@Suite struct ColumnPositionTests {
    @Test func repeatedNamesKeepTheirOwnColumns() throws {
        let old = "id,v,v\n1,10,100\n2,20,200\n"
        let new = "id,v,v\n1,10,100\n2,20,201\n3,30,300\n"
        for parts in [1, 3] {
            var o = TableDiffOptions(key: ["id"], rowSamples: 5)
            o.partitions = parts
            o.spillDirectory = scratchDirectory("spill")
            let d = try diffTables(oldName: "a.csv", newName: "b.csv", separator: UInt8(ascii: ","), options: o) { MemoryStream(Array(($0 ? new : old).utf8)) }
            let v = d.stats.filter { $0.column.hasPrefix("v") }
            #expect(v.map(\.column) == ["v (column 2)", "v (column 3)"])
            #expect(v.map(\.index) == [1, 2] && v.map { $0.new?.index } == [1, 2])
            let means: [Double?] = v.map { $0.new?.mean }
            let wantMeans: [Double?] = [60.0 / 3, 601.0 / 3]     // (10 + 20 + 30) / 3, (100 + 201 + 300) / 3
            #expect(means == wantMeans)
            #expect(v.map { $0.old?.max } == ["20", "200"])
            #expect(d.rows.modified == 1 && d.cellsChanged == 1)
            #expect(d.modifiedRows.first?.cells.map { "\($0.index) \($0.column): \($0.old)->\($0.new)" } == ["2 v (column 3): 200->201"])
            #expect(d.addedSample == [["id": "3", "v (column 2)": "30", "v (column 3)": "300"]])
        }
        // A repeated name cannot key rows.
        #expect(throws: DiffError.ambiguousKey(file: "old.csv", column: "v", count: 2)) { _ = try tdiff(old, new, key: ["v"]) }
    }

    @Test func aColumnRepeatedInOneVersionOnlyIsAddedByPosition() throws {
        let d = try tdiff("id,v\n1,2\n", "id,v,v\n1,2,3\n")
        #expect(d.columns.added == ["v (column 3)"] && d.columns.removed.isEmpty)
        #expect(d.stats.map(\.column) == ["id", "v (column 2)", "v (column 3)"])
        #expect(d.stats.last?.new?.mean == 3 && d.stats.last?.old == nil)
    }

    @Test func aHeaderOfNumbersIsTheFirstRow() throws {
        let r = try TableReader(stream: MemoryStream(Array("1,2.5,3\n4,5,6\n".utf8)), name: "t.csv",
                                separator: UInt8(ascii: ","), detectHeaderless: true)
        #expect(r.header == ["column_1", "column_2", "column_3"] && r.headerless)
        var rows: [[String]] = []
        while try r.next() { rows.append((0..<r.fieldCount).map { r.string($0) }) }
        #expect(rows == [["1", "2.5", "3"], ["4", "5", "6"]])
        // Names stay names, even beside numbers.
        let named = try TableReader(stream: MemoryStream(Array("id,2019\n1,2\n".utf8)), name: "t.csv",
                                    separator: UInt8(ascii: ","), detectHeaderless: true)
        #expect(named.header == ["id", "2019"] && !named.headerless)
        let d = try tdiff("1,2\n3,4\n", "1,2\n3,4\n5,6\n")
        #expect(d.rows.old == 2 && d.rows.new == 3 && d.rows.added == 1)
        #expect(d.stats.map(\.column) == ["column_1", "column_2"] && d.stats.first?.new?.mean == 3)
    }
}

@Suite struct QuotedLineBreakTests {
    /// RFC 4180: the bytes between the quotes are the field's, CR LF included, whatever the
    /// record ends are and wherever the blocks of the stream end.
    @Test func crlfInsideQuotesIsKeptAcrossBlockEnds() throws {
        let text = "id,note\r\n1,\"a\r\nb\"\r\n2,\"c\nd\"\n3,\"e\rf\"\r\n4,\"\"\"q\"\"\r\n\"\r\n"
        let want = [["1", "a\r\nb"], ["2", "c\nd"], ["3", "e\rf"], ["4", "\"q\"\r\n"]]
        for size in [1, 2, 3, 7, 4096] {
            let r = try TableReader(stream: ChoppedStream(Array(text.utf8), size: size), name: "t.csv", separator: UInt8(ascii: ","))
            var rows: [[String]] = []
            while try r.next() { rows.append((0..<r.fieldCount).map { r.string($0) }) }
            #expect(rows.map { $0.map { Array($0.utf8) } } == want.map { $0.map { Array($0.utf8) } }, "block size \(size)")
        }
        // CR LF and LF inside quotes are different values.
        let d = try tdiff("id,note\n1,\"a\r\nb\"\n", "id,note\n1,\"a\nb\"\n", key: ["id"])
        #expect(d.rows.modified == 1)
        #expect(d.modifiedRows.first?.cells.map { Array($0.old.utf8) + [0] + Array($0.new.utf8) } == [Array("a\r\nb".utf8) + [0] + Array("a\nb".utf8)])
    }
}
