import Foundation
import MLVTestSupport
import Testing
@testable import MLVCore

/// A YAML alias bomb ("billion laughs"): ten scalars, then `levels - 1` lists of ten aliases
/// to the previous list, so the last anchor stands for 10^levels scalars. `use` places the last
/// anchor (`key: *top`, `? *top : 1`, ...).
func yamlBomb(levels: Int, use: String = "top: *l\(0)") -> String {
    var s = "l0: &l0 [" + Array(repeating: "x", count: 10).joined(separator: ",") + "]\n"
    for i in 1..<levels {
        s += "l\(i): &l\(i) [" + Array(repeating: "*l\(i - 1)", count: 10).joined(separator: ",") + "]\n"
    }
    return s + use.replacingOccurrences(of: "*l0", with: "*l\(levels - 1)") + "\n"
}

@Suite struct YAMLBudgetTests {
    @Test func aliasesAreCountedExpanded() {
        #expect(YAMLBudget.expandedNodes("a: &a [1, 2]\nb: *a\n") == 1 + 1 + 3 + 1 + 3)   // map, a, [1, 2], b, *a
        #expect(YAMLBudget.expandedNodes("a: [1, 2]\n") == 5)
        #expect(YAMLBudget.expandedNodes("") == 0)
        // Five levels of ten: over 100,000 scalars from a few hundred bytes.
        #expect(YAMLBudget.expandedNodes(yamlBomb(levels: 5)) == nil)
        #expect(YAMLBudget.expandedNodes(yamlBomb(levels: 4)) != nil)
        #expect(YAMLBudget.expandedNodes(yamlBomb(levels: 6), limit: .max)! > 1_000_000)
        // Without aliases, any size passes: the limit grows with the text.
        let plain = "a: [" + Array(repeating: "1", count: 300_000).joined(separator: ",") + "]\n"
        #expect(YAMLBudget.expandedNodes(plain) == 300_003)
    }

    /// Issue 16 (12): a metrics or params file that is an alias bomb is refused with a message
    /// naming the file and the limit, instead of being expanded (20 s and 1.5 GB at nine levels).
    @Test func metricsAliasBombIsRefused() throws {
        for use in ["top: *l0", "? *l0\n: 1", "top: {a: *l0, b: *l0}"] {
            let bomb = yamlBomb(levels: 6, use: use)
            #expect(bomb.utf8.count < 1000)
            do {
                _ = try flattenMetrics(Array(bomb.utf8), path: "metrics.yaml@HEAD")
                Issue.record("an alias bomb was read (\(use))")
            } catch let e as DiffError {
                #expect(e.description.hasPrefix("metrics.yaml@HEAD: "), "\(e)")
                #expect(e.description.contains("100,000 more nodes than the file has bytes"), "\(e)")
                #expect(!e.description.contains("\n"))
            }
        }
        // Aliases within the budget still read as the values they repeat.
        let small = try flattenMetrics(Array("a: &a {x: 1}\nb: *a\n".utf8), path: "m.yaml")
        #expect(small == ["a.x": .number(1), "b.x": .number(1)])
    }

    @Test func configAliasBombIsRefused() throws {
        #expect(throws: MLVError.self) { try Config.parse(Array(yamlBomb(levels: 6, use: "junk: *l0").utf8)) }
        do {
            _ = try Config.parse(Array(yamlBomb(levels: 6, use: "? *l0\n: 1").utf8))
            Issue.record("an alias bomb config was read")
        } catch {
            #expect("\(error)".contains("mlv.yaml") && "\(error)".contains("100,000 more nodes than the file has bytes"), "\(error)")
        }
        #expect(try Config.parse(Array("metrics: &m [m.json]\nparams: *m\n".utf8)).params == ["m.json"])
    }

    /// Yams' Codable decoder scans a mapping for each key it looks up, so a dictionary of n
    /// entries (targets, stages, remotes, tags) costs n²: 20,000 targets took 47 s.
    @Test func configMappingWidthIsBounded() throws {
        let wide = "targets:\n" + (0..<6_000).map { "  d\($0).csv: {key: [id]}\n" }.joined()
        do {
            _ = try Config.parse(Array(wide.utf8))
            Issue.record("a 6,000-entry mapping was decoded")
        } catch {
            #expect("\(error)".contains("mlv.yaml") && "\(error)".contains("too large"), "\(error)")
        }
        let ok = "targets:\n" + (0..<1_900).map { "  d\($0).csv: {key: [id]}\n" }.joined()
        #expect(try Config.parse(Array(ok.utf8)).targets.count == 1_900)
    }

    /// The decode cost counts what Yams decodes: aliases expanded, `<<` merges flattened.
    @Test func decodeCostCountsAliasesAndMerges() {
        func block(_ anchor: String) -> String { "\(anchor): &\(anchor) {" + (0..<1_000).map { "\(anchor)\($0): 1" }.joined(separator: ", ") + "}\n" }
        let three = block("a") + block("b") + block("c")
        #expect(YAMLBudget.count(three)?.decodeCost == 3_000_000 + 9)
        // Merged: one mapping of 3,000 entries (plus the `<<` key) on top.
        #expect(YAMLBudget.count(three + "m: {<<: [*a, *b, *c]}\n")!.decodeCost >= 3_000_000 + 3_000 * 3_000)
        #expect(YAMLBudget.count(three + "m: {<<: *a, x: 1}\n")!.decodeCost >= 3_000_000 + 1_000 * 1_000)
        #expect(YAMLBudget.count(three + "m: {<<: *a, x: 1}\n", maxCost: YAMLBudget.maxDecodeCost) == nil)
        // Repeated through aliases: each use is decoded again.
        #expect(YAMLBudget.count(block("a") + "u: [*a, *a, *a, *a]\n")!.decodeCost == 5_000_000 + 4)
        #expect(YAMLBudget.count("a: 1\n") == YAMLBudget.Count(nodes: 3, decodeCost: 1))
    }

    /// Yams reads plain `a:b:c` scalars as base-60 integers with unchecked arithmetic: one that
    /// overflows (or has 11 parts) trapped every mlv command when it was in mlv.yaml, and
    /// `mlv diff` on a metrics file (found by fuzzing the metrics parser).
    @Test func base60IntegersThatOverflowDoNotTrap() throws {
        #expect(yamsIntConversionTraps("1:0:0:0:0:0:0:0:0:0:0"))
        #expect(yamsIntConversionTraps("3400000001858504700:3"))
        #expect(yamsIntConversionTraps("-1_0:0:0:0:0:0:0:0:0:0:0"))
        for safe in ["1:0:0:0:0:0:0:0:0:0", "1:30", "0:1:0:0:0:0:0:0:0:0:0:0", "a:b", "12", "1::2"] {
            #expect(!yamsIntConversionTraps(safe), "\(safe)")
        }
        let bomb = "version: 1:0:0:0:0:0:0:0:0:0:0:0\n"
        do {
            _ = try Config.parse(Array(bomb.utf8))
            Issue.record("read")
        } catch {
            #expect("\(error)".contains("mlv.yaml") && "\(error)".contains("line 1:") && "\(error)".contains("quote it"), "\(error)")
        }
        #expect(throws: DiffError.self) { try FeatureSet.parse(Array(bomb.utf8), path: "f.yaml") }
        #expect(try Config.parse(Array("version: 1\nstages: {a: {cmd: [sleep, '1:0:0:0:0:0:0:0:0:0:0:0']}}\n".utf8)).stages["a"]?.cmd.count == 2)
        let m = try flattenMetrics(Array("a: 1:0:0:0:0:0:0:0:0:0:0:0\nb: 1:30\nc: 3400000001858504700:3\n".utf8), path: "m.yaml")
        #expect(m["a"]?.number == pow(60, 11) && m["b"] == .number(90) && m["c"]?.number != nil, "\(m)")
    }

    @Test func featureDefinitionsAliasBombIsRefused() throws {
        do {
            _ = try FeatureSet.parse(Array(yamlBomb(levels: 6, use: "junk: *l0").utf8), path: "features.yaml@HEAD")
            Issue.record("an alias bomb feature file was read")
        } catch let e as DiffError {
            #expect(e.description.hasPrefix("features.yaml@HEAD: ") && e.description.contains("100,000 more nodes than the file has bytes"), "\(e)")
        }
    }
}

/// Issue 16 (13): wide rows and big records are bounded, and counts stay exact up to the limit.
@Suite struct TableBudgetTests {
    func row(_ n: Int, _ f: (Int) -> String) -> String { (0..<n).map(f).joined(separator: ",") }

    @Test func csvWiderThanTheLimitIsTooWide() throws {
        let text = row(10_001) { "c\($0)" } + "\n" + row(10_001) { "\($0)" } + "\n"
        do {
            _ = try table(text, name: "w.csv")
            Issue.record("a 10,001-column table was read")
        } catch let e as DiffError {
            #expect(e.description == "w.csv: line 1 has more than 10000 fields, the most mlv compares", "\(e)")
        }
        let ok = try table(row(10_000) { "c\($0)" } + "\n" + row(10_000) { "\($0)" } + "\n")
        #expect(ok.header.count == 10_000 && ok.rows[0][9_999] == "9999")
    }

    @Test func aRecordOverTheBudgetIsRefused() throws {
        for text in ["a,b\n1,2\n" + String(repeating: "x", count: 16 << 20) + "y,3\n",
                     "a,b\n1,2\n\"" + String(repeating: "x\n", count: 8 << 20) + "y\",3\n"] {
            do {
                _ = try table(text, name: "big.csv")
                Issue.record("a record over 16 MiB was read")
            } catch let e as DiffError {
                #expect(e.description == "big.csv: the record at line 3 is larger than 16 MiB, the most mlv compares", "\(e)")
            }
        }
    }

    @Test func jsonLinesWidthAndLineBudget() throws {
        func read(_ text: String) throws -> (header: [String], rows: Int) {
            let r = try JSONLinesReader(open: { MemoryStream(Array(text.utf8)) }, name: "t.jsonl")
            var n = 0
            while try r.next() { n += 1 }
            return (r.header, n)
        }
        let wide = "{" + row(10_001) { "\"k\($0)\": 1" } + "}\n"
        #expect(throws: DiffError.self) { _ = try read(wide) }
        do { _ = try read(wide) } catch { #expect("\(error)" == "t.jsonl: line 1 has more than 10000 keys, the most mlv compares") }
        // Commas inside strings and nested values are no keys.
        let nested = "{\"a\": \"" + String(repeating: ",", count: 20_000) + "\", \"b\": [" + row(20_000) { "\($0)" } + "], \"c\": {\"x,y\": 1, \"z\": 2}}\n"
        #expect(try read(nested).header == ["a", "b", "c"])
        do {
            _ = try read("{\"a\": 1}\n{\"a\": \"" + String(repeating: "x", count: 16 << 20) + "\"}\n")
            Issue.record("a line over 16 MiB was read")
        } catch {
            #expect("\(error)" == "t.jsonl: line 2 is longer than 16 MiB, the most mlv compares")
        }
        // Keys keep their order in the text, escapes and nesting included, at full width.
        let keys = (0..<10_000).map { "k\(9_999 - $0)" }
        #expect(try read("{" + keys.map { "\"\($0)\": [1, {\"x\": \"}\"}]" }.joined(separator: ",") + "}\n").header == keys)
        #expect(try read(#"{"b": 1, "a\"q": {"z": [1, "]"]}, "\u00e9\ud83d\ude00": "x", "c,": null}"#).header == ["b", "a\"q", "é😀", "c,"])
        // A repeated key keeps its first place (and its last value), as Python's json module reads it.
        #expect(try read(#"{"b": 1, "a": 2, "b": 3}"#).header == ["b", "a"])
    }

    /// A 10,000-column diff (the limit) has exact schema counts; the per-column steps are
    /// index lookups now (array searches made 100,000 columns take 13 s).
    @Test func wideDiffCounts() throws {
        let a = row(10_000) { "c\($0)" } + "\n" + row(10_000) { "\($0)" } + "\n"
        let b = row(10_000) { $0 < 9_998 ? "c\($0)" : "n\($0)" } + "\n" + row(10_000) { "\($0 == 5 ? 7 : $0)" } + "\n"
        let d = try tdiff(a, b)
        #expect(d.columns.added == ["n9998", "n9999"] && d.columns.removed == ["c9998", "c9999"])
        #expect(d.stats.count == 10_002)
        #expect(d.rows.added == 1 && d.rows.removed == 1)
        #expect(!d.columns.reordered)
    }

    /// The pointer's `columns` is exact or absent.
    @Test func pointerColumnsExactOrAbsent() {
        let cut = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)   // the archiver's cap: maybe cut
        #expect(tableShape(records: 2, head: cut, size: 2 << 20, separator: 44).1 == nil)
        #expect(tableShape(records: 2, head: Array("a,\"b".utf8), size: 2 << 20, separator: 44).1 == nil)
        #expect(tableShape(records: 2, head: Array("a,\"b,c\",d\n".utf8), size: 2 << 20, separator: 44).1 == 3)
    }

    /// safetensors: a header past 16 MiB is refused (a diff shows the byte summary); within
    /// it, tensors read as before.
    @Test func safetensorsHeaderBudget() throws {
        func file(tensors: Int, pad: Int = 0) -> [UInt8] {
            var h = "{\"__metadata__\": {\"format\": \"pt\"}"
            for i in 0..<tensors { h += ", \"layer.\(i).weight\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [\(4 * i), \(4 * i + 4)]}" }
            h += String(repeating: " ", count: pad) + "}"
            let n = UInt64(h.utf8.count)
            return withUnsafeBytes(of: n.littleEndian) { Array($0) } + Array(h.utf8) + [UInt8](repeating: 0, count: 4 * tensors)
        }
        let h = try #require(try SafetensorsHeader.parse(prefix: file(tensors: 3), path: "m.safetensors"))
        #expect(h.tensors.count == 3 && h.tensors["layer.2.weight"]?.begin == 8)
        do {
            _ = try SafetensorsHeader.parse(prefix: file(tensors: 1, pad: 16 << 20), path: "m.safetensors")
            Issue.record("a header over 16 MiB was read")
        } catch {
            #expect("\(error)".hasPrefix("m.safetensors: safetensors header of ") && "\(error)".contains("16 MiB"), "\(error)")
        }
        #expect(throws: DiffError.self) { try SafetensorsHeader.parse(prefix: Array("\u{8}\0\0\0\0\0\0\0{\"a\": 1}".utf8), path: "m.safetensors") }
    }
}
