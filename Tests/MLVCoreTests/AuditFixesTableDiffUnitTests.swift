import Foundation
import MLVTestSupport
import Testing
@testable import MLVCore

/// Keyed and unkeyed diffs over random tables full of duplicate keys and identical rows, in
/// memory and spilled to partitions, against a plain reference written here: rows of a key
/// are matched as a multiset, and a key left with one old and one new row is one modified row.
@Suite struct AuditFixesTableDiffUnitTests {
    struct Expected: Equatable { var added = 0, removed = 0, modified = 0, cells = 0, dupOld = 0, dupNew = 0 }

    /// The reference: rows as string arrays, groups as dictionaries, nothing hashed by hand.
    func reference(_ old: [[String]], _ new: [[String]], key: [Int]?) -> Expected {
        var e = Expected()
        func group(_ rows: [[String]]) -> [[String]: [[String]: Int]] {
            var g: [[String]: [[String]: Int]] = [:]
            for r in rows { g[key.map { k in k.map { r[$0] } } ?? [], default: [:]][r, default: 0] += 1 }
            return g
        }
        let go = group(old), gn = group(new)
        for k in Set(go.keys).union(gn.keys) {
            var o = go[k] ?? [:], n = gn[k] ?? [:]
            for (r, c) in o { let m = min(c, n[r] ?? 0); o[r] = c - m; n[r] = (n[r] ?? 0) - m }
            let lo = o.values.reduce(0, +), ln = n.values.reduce(0, +)
            if key != nil && lo == 1 && ln == 1, let a = o.first(where: { $0.value == 1 })?.key, let b = n.first(where: { $0.value == 1 })?.key {
                e.modified += 1
                e.cells += zip(a, b).filter { $0 != $1 }.count
            } else { e.added += ln; e.removed += lo }
        }
        if let key {
            e.dupOld = old.count - Set(old.map { r in key.map { r[$0] } }).count
            e.dupNew = new.count - Set(new.map { r in key.map { r[$0] } }).count
        }
        return e
    }

    func csv(_ rows: [[String]]) -> String { "k,j,v\n" + rows.map { $0.joined(separator: ",") + "\n" }.joined() }

    func run(_ old: [[String]], _ new: [[String]], key: [String], partitions: Int) throws -> TableDiff {
        var o = TableDiffOptions(key: key, rowSamples: 3)
        o.partitions = partitions
        o.spillDirectory = scratchDirectory("f2-spill")
        let a = csv(old), b = csv(new)
        return try diffTables(oldName: "a.csv", newName: "b.csv", separator: UInt8(ascii: ","), options: o) { MemoryStream(Array(($0 ? b : a).utf8)) }
    }

    @Test(arguments: [1, 4]) func randomTablesWithDuplicatesMatchTheReference(partitions: Int) throws {
        var rng = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let keys = [3, 20, 200][round % 3]
            var old: [[String]] = []
            for _ in 0..<Int.random(in: 0..<400, using: &rng) {
                old.append(["\(Int.random(in: 0..<keys, using: &rng))", "j\(Int.random(in: 0..<3, using: &rng))", "\(Int.random(in: 0..<3, using: &rng))"])
            }
            var new: [[String]] = []
            for r in old {
                switch Int.random(in: 0..<12, using: &rng) {
                case 0: continue
                case 1: new.append([r[0], r[1], "\(Int.random(in: 0..<5, using: &rng))"])
                case 2: new.append(r); new.append(r)
                case 3: new.append([r[0], "j9", "x"])
                default: new.append(r)
                }
            }
            for _ in 0..<Int.random(in: 0..<30, using: &rng) {
                new.insert(["\(Int.random(in: 0..<(keys + 5), using: &rng))", "j0", "\(Int.random(in: 0..<3, using: &rng))"],
                           at: Int.random(in: 0...new.count, using: &rng))
            }
            new.shuffle(using: &rng)
            for (key, cols) in [(["k"], [0]), (["k", "j"], [0, 1])] as [([String], [Int])] {
                let d = try run(old, new, key: key, partitions: partitions)
                let e = reference(old, new, key: cols)
                let got = Expected(added: d.rows.added, removed: d.rows.removed, modified: d.rows.modified, cells: d.cellsChanged,
                                   dupOld: d.rows.duplicateKeysOld, dupNew: d.rows.duplicateKeysNew)
                #expect(got == e, "key \(key), \(partitions) partition(s)")
                #expect(d.rows.old + d.rows.added - d.rows.removed == d.rows.new, "old + added - removed = new")
                #expect(d.rows.old == old.count && d.rows.new == new.count)
                #expect(d.modifiedRows.count == min(3, e.modified) && d.addedSample.count == min(3, e.added)
                        && d.removedSample.count == min(3, e.removed))
            }
            let u = try run(old, new, key: [], partitions: partitions)
            let e = reference(old, new, key: nil)
            #expect(u.rows.added == e.added && u.rows.removed == e.removed && u.rows.modified == 0)
            #expect(u.rows.old + u.rows.added - u.rows.removed == u.rows.new)
        }
    }

    /// Spilled and in-memory comparisons report the same samples, in file order.
    @Test func spilledAndInMemorySamplesAgree() throws {
        var old: [[String]] = [], new: [[String]] = []
        for i in 0..<500 {
            old.append(["\(i % 60)", "j\(i % 7)", "\(i)"])
            if i % 9 == 0 { continue }
            new.append(["\(i % 60)", "j\(i % 7)", i % 11 == 0 ? "x\(i)" : "\(i)"])
        }
        for i in 0..<20 { new.append(["\(100 + i)", "j0", "n"]) }
        for key in [["k"], ["k", "j"], []] {
            let a = try run(old, new, key: key, partitions: 1), b = try run(old, new, key: key, partitions: 6)
            #expect(a.rows.added == b.rows.added && a.rows.removed == b.rows.removed && a.rows.modified == b.rows.modified)
            #expect(a.addedSample == b.addedSample && a.removedSample == b.removedSample)
            #expect(a.modifiedRows.map(\.line) == b.modifiedRows.map(\.line))
            #expect(a.modifiedRows.map { $0.cells.map(\.old) } == b.modifiedRows.map { $0.cells.map(\.old) })
        }
    }
}

@Suite struct CellHashTests {
    /// SipHash-2-4-128 against the reference vectors (key 00..0f, message 00..len-1).
    @Test func siphash128MatchesTheReferenceVectors() {
        let k0 = UInt64(0x0706_0504_0302_0100), k1 = UInt64(0x0f0e_0d0c_0b0a_0908)
        func digest(_ len: Int) -> [UInt8] {
            let (a, b) = (0..<len).map { UInt8($0) }.withUnsafeBytes { siphash128($0, k0: k0, k1: k1) }
            return withUnsafeBytes(of: a.littleEndian, Array.init) + withUnsafeBytes(of: b.littleEndian, Array.init)
        }
        #expect(digest(0) == [0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55, 0x02, 0x93])
        #expect(digest(1) == [0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22, 0xfc, 0x45])
    }

    /// The exact quotient, correctly rounded: checked against Python's Fraction -> float.
    @Test func roundedQuotientIsCorrectlyRounded() throws {
        let cases: [(Int128, Int)] = [(450_359_962_737_049_825, 50), (1, 3), (-7, 2), (88_282_482_761_705_840 + 135, 10),
                                      (Int128(Int64.max) * 1000 + 1, 999), (0, 5), (5, 1), (9_007_199_254_740_993, 1)]
        let script = "import sys\nfrom fractions import Fraction\nfor l in sys.stdin:\n    a, b = l.split()\n    print(float(Fraction(int(a), int(b))).hex())"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        let out = Pipe(), inp = Pipe()
        p.standardOutput = out; p.standardInput = inp
        try p.run()
        inp.fileHandleForWriting.write(Data(cases.map { "\($0.0) \($0.1)\n" }.joined().utf8))
        try inp.fileHandleForWriting.close()
        let want = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        p.waitUntilExit()
        #expect(want.count == cases.count)
        for (c, w) in zip(cases, want) {
            let got = roundedQuotient(c.0, c.1)
            #expect(Double(String(w)) == got, "\(c): \(got) vs \(w)")
        }
    }
}
