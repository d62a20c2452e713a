import Foundation
import MLVTestSupport
import Testing

/// The diff reports (text, md, html) against the JSON one: the same facts in every format, a
/// markdown report that fits a pull-request comment and renders cells as themselves, text that
/// clips long values, pages on a terminal only, and honours NO_COLOR.
@Suite struct ReportFormatsTests {
    // MARK: A realistic diff

    /// Two commits: a keyed table with a schema change (column removed, added, retyped),
    /// rows added, removed and modified; a folder with files added, removed, renamed and a
    /// table inside modified; a binary; metrics (changed, added, removed, unchanged) and
    /// params. Cells hold markdown and HTML specials.
    func realisticProject() throws -> Sandbox {
        let s = try Sandbox()
        try s.write("data/t.csv", """
            id,name,score,zip,city
            1,alice,10,75001,Paris
            2,<b>bob</b>,20,184,Rome
            3,carol|x,30,150,Oslo
            4,dave & co,40,3000,Bern
            5,*eve*,50,1000,Wien

            """)
        try s.write("data/imgs/a.txt", "aaaa\n")
        try s.write("data/imgs/b.txt", "bbbb\n")
        try s.write("data/imgs/old-name.txt", "moved\n")
        try s.write("data/imgs/table.csv", "id,v\n1,x\n2,y\n")
        var bin = [UInt8](repeating: 0, count: 300_000)
        var x: UInt64 = 42
        for i in bin.indices { x = x &* 6364136223846793005 &+ 1442695040888963407; bin[i] = UInt8(truncatingIfNeeded: x >> 33) }
        try s.write("models/m.bin", bin)
        try s.write("metrics.json", #"{"acc": 0.91, "loss": 0.25, "f1": 0.8}"# + "\n")
        try s.write("params.yaml", "lr: 0.1\nepochs: 10\n")
        try s.mlvOK("track", "data/t.csv", "data/imgs", "models/m.bin")
        try s.mlvOK("track", "--kind", "metrics", "metrics.json")
        try s.mlvOK("track", "--kind", "params", "params.yaml")
        try s.mlvOK("commit", "-m", "v1")

        try s.write("data/t.csv", """
            id,name,score,zip,grade
            1,alice,11.5,75001,A
            3,_carol_,30,150,B
            5,*eve*,50,SW1A,C
            6,[frank](x),60,4000,D
            7,`gina`,70,5000,E

            """)
        try s.write("data/imgs/b.txt", "BBBB\n")
        try FileManager.default.removeItem(atPath: s.repo + "/data/imgs/a.txt")
        try FileManager.default.moveItem(atPath: s.repo + "/data/imgs/old-name.txt", toPath: s.repo + "/data/imgs/new-name.txt")
        try s.write("data/imgs/c.txt", "cccc\n")
        try s.write("data/imgs/table.csv", "id,v\n1,x\n2,z\n3,w\n")
        for i in 100_000..<160_000 { bin[i] = bin[i] &+ 1 }
        try s.write("models/m.bin", bin)
        try s.write("metrics.json", #"{"acc": 0.93, "loss": 0.25, "auc": 0.7}"# + "\n")
        try s.write("params.yaml", "lr: 0.05\nepochs: 10\n")
        try s.mlvOK("commit", "-m", "v2")
        return s
    }

    /// Every fact of the JSON report appears in text, md and html: walked generically, so a
    /// field added to the JSON later is checked too (or fails here until this test is told
    /// how human formats show it: see `Facts.boolean`).
    @Test func everyFormatCarriesTheFactsOfTheJSON() throws {
        var s = try realisticProject()
        // No memory for exact medians: every median is an estimate, which must show as one.
        s.env["MLV_MEDIAN_MEMORY"] = "0"
        let args = ["diff", "HEAD~1", "HEAD", "--key", "id", "--fail-on", "acc < -1", "--fail-on", "rel(acc) > 0.001"]
        func run(_ format: String) throws -> String {
            let r = try s.run(mlvBinary, args + ["--format", format])
            #expect(r.status == 11, "\(format): \(r.stderr)")   // the second gate holds
            return r.stdout
        }
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(try run("json").utf8))
        // The fixture's facts are all there to be checked.
        let t = try #require(json["targets"]?.array?.first { $0["path"]?.string == "data/t.csv" }?["table"])
        #expect(t["modified_rows"]?.array?.count == 3 && t["added_sample"]?.array?.count == 2 && t["removed_sample"]?.array?.count == 2)
        #expect(json["targets"]?.array?.count == 3)

        for format in ["text", "md", "html"] {
            let out = try run(format)
            var facts = Facts(format: format, output: out)
            facts.checkReport(json)
            for problem in facts.problems.prefix(40) { Issue.record("\(format): \(problem)") }
        }
    }

    // MARK: Markdown

    /// A 300-column change, 50 more targets and a 200,000-character cell: the markdown stays
    /// under 60,000 characters (GitHub refuses comments over 65,536), says what it left out
    /// and how to get the full report, and stays well-formed.
    @Test func markdownFitsAPullRequestComment() throws {
        let s = try Sandbox()
        func wide(_ version: Int) -> String {
            var out = "id," + (0..<300).map { "column_\($0)" }.joined(separator: ",") + "\n"
            for row in 0..<40 { out += "\(row)," + (0..<300).map { "value \(version)-\(row)-\($0)" }.joined(separator: ",") + "\n" }
            return out
        }
        try s.write("data/wide.csv", wide(1))
        for i in 0..<50 { try s.write("data/small/s\(String(format: "%02d", i)).csv", "id,v\n1,\(i)\n") }
        let huge = String(repeating: "h", count: 200_000)
        try s.write("data/huge.csv", "id,text\n1,\(huge)\n")
        try s.mlvOK("track", "data/wide.csv", "data/huge.csv")
        for i in 0..<50 { try s.mlvOK("track", "data/small/s\(String(format: "%02d", i)).csv") }
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/wide.csv", wide(2))
        for i in 0..<50 { try s.write("data/small/s\(String(format: "%02d", i)).csv", "id,v\n1,\(i + 100)\n") }
        try s.write("data/huge.csv", "id,text\n1,\(huge)X\n")
        try s.mlvOK("commit", "-m", "v2")

        let md = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id", "--format", "md").stdout
        #expect(md.unicodeScalars.count < 60_000 && md.utf16.count < 60_000 && md.utf8.count < 60_000, "\(md.utf8.count) bytes")
        #expect(!md.contains(huge.prefix(1_000)))
        #expect(md.contains("`mlv diff HEAD~1 HEAD --key id --format html`"), "no pointer to the full report")
        #expect(md.range(of: #"… not shown here: [^\n]*\d[\d,]* columns"#, options: .regularExpression) != nil, "no note of the columns left out")
        // Every target is at least in the summary table.
        for i in 0..<50 { #expect(md.contains("data/small/s\(String(format: "%02d", i)).csv"), "target s\(i) missing") }
        #expect(md.contains("data/wide.csv") && md.contains("data/huge.csv"))
        Markdown.checkWellFormed(md)
        // The same diff in full: HTML and JSON keep everything.
        let html = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id", "--format", "html").stdout
        #expect(html.contains("column_299") && html.contains(huge))
    }

    /// 5,000 files changed in a folder and 5,000 params changed: still under 60,000
    /// characters, the params table does not crowd out the folder's details, and both say
    /// how many they left out.
    @Test func markdownFitsWithThousandsOfFilesAndParams() throws {
        let s = try Sandbox()
        func write(_ version: Int) throws {
            for i in 0..<5_000 { try s.write("d/f\(String(format: "%05d", i)).txt", "\(i)-\(version)\n") }
            try s.write("params.json", "{" + (0..<5_000).map { "\"p\($0)\": \($0 + version)" }.joined(separator: ", ") + "}\n")
        }
        try write(1)
        try s.mlvOK("track", "d")
        try s.mlvOK("track", "--kind", "params", "params.json")
        try s.mlvOK("commit", "-m", "v1")
        try write(2)
        try s.mlvOK("commit", "-m", "v2")
        let md = try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", "md").stdout
        #expect(md.utf8.count < 60_000, "\(md.utf8.count) bytes")
        #expect(md.contains("<details><summary><code>d</code></summary>"), "the folder's details were crowded out")
        #expect(md.range(of: #"\d,\d{3} more files"#, options: .regularExpression) != nil)
        #expect(md.range(of: #"\d,\d{3} more changed params"#, options: .regularExpression) != nil)
        #expect(md.contains("`mlv diff HEAD~1 HEAD --format html`"))
        Markdown.checkWellFormed(md)
    }

    /// Cells render as themselves: the escapes follow CommonMark's rule (a backslash before
    /// ASCII punctuation), one table row per record whatever the cell holds.
    @Test func markdownEscapesCellContents() throws {
        let s = try Sandbox()
        try s.write("data/t.csv", "id,v\n1,plain\n")
        try s.mlvOK("track", "data/t.csv")
        try s.mlvOK("commit", "-m", "v1")
        let cells = ["<b>x</b>", "a|b", "`tick`", "multi\nline", "# head", "*bold*", "_it_", "[l](u)", "&amp;", "<img src=x onerror=alert(1)>", "$x^2$", "~~gone~~"]
        var csv = "id,v\n"
        for (i, c) in cells.enumerated() { csv += "\(i + 2),\"\(c)\"\n" }
        try s.write("data/t.csv", csv)
        try s.mlvOK("commit", "-m", "v2")
        let md = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id", "--format", "md", "--rows", "20").stdout
        // Escaped as CommonMark says (derived from the input, by hand).
        let expected = [#"\<b\>x\</b\>"#, #"a\|b"#, #"\`tick\`"#, #"multi\\nline"#, ##"\# head"##, #"\*bold\*"#, #"\_it\_"#,
                        #"\[l\](u)"#, #"\&amp;"#, #"\<img src=x onerror=alert(1)\>"#, #"\$x^2\$"#, #"\~\~gone\~\~"#]
        for e in expected { #expect(md.contains("v=" + e), "markdown lacks v=\(e)") }
        #expect(md.range(of: #"(?<!\\)<(b|img)"#, options: .regularExpression) == nil, "an unescaped tag")
        // One table row per added record: every line of the added-rows table is a row.
        let lines = md.components(separatedBy: "\n")
        let start = try #require(lines.firstIndex { $0.contains("added rows") })
        let rows = lines[(start + 2)...].prefix { $0.hasPrefix("|") }
        #expect(rows.count == cells.count, "\(rows.count) rows for \(cells.count) records")
        Markdown.checkWellFormed(md)
    }

    /// `mlv metrics diff --format md` with metrics only: no empty targets table.
    @Test func metricsDiffMarkdownHasNoEmptyTargetsTable() throws {
        let s = try Sandbox()
        try s.write("metrics.json", #"{"acc": 0.5}"# + "\n")
        try s.mlvOK("track", "--kind", "metrics", "metrics.json")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("metrics.json", #"{"acc": 0.75}"# + "\n")
        try s.mlvOK("commit", "-m", "v2")
        let md = try s.mlvOK("metrics", "diff", "HEAD~1", "HEAD", "--format", "md").stdout
        #expect(!md.contains("| target |"), "\(md)")
        #expect(md.contains("| acc | 0.5 | 0.75 |"))
        Markdown.checkWellFormed(md)
    }

    // MARK: Text

    /// Long values end in "…" in text and markdown; JSON and HTML keep them whole.
    @Test func textClipsLongValues() throws {
        let s = try Sandbox()
        let long = (0..<30).map { "word\($0)" }.joined(separator: " ")       // 258 characters
        try s.write("data/t.csv", "id,v\n1,short\n")
        try s.mlvOK("track", "data/t.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/t.csv", "id,v\n1,\(long)\n")
        try s.mlvOK("commit", "-m", "v2")
        let text = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id").stdout
        #expect(!text.contains(long))
        #expect(text.contains(String(long.prefix(79)) + "…"), "\(text)")
        #expect(text.components(separatedBy: "\n").allSatisfy { $0.count < 400 })
        let md = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id", "--format", "md").stdout
        #expect(!md.contains(long) && md.contains(String(long.prefix(79)) + "…"))
        for format in ["json", "html"] {
            #expect(try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id", "--format", format).stdout.contains(long), "\(format)")
        }
    }

    /// A pager only on a terminal: $MLV_PAGER first, then $PAGER; --no-pager prints
    /// directly; a pipe never pages. Colour on a terminal, never with NO_COLOR or on a pipe.
    @Test func pagerAndColourOnlyOnATerminal() throws {
        var s = try Sandbox()
        try s.write("data/t.csv", "id,v\n1,a\n")
        try s.mlvOK("track", "data/t.csv")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("data/t.csv", "id,v\n1,b\n")
        try s.mlvOK("commit", "-m", "v2")
        let paged = s.repo + "/paged.txt"
        s.env["NO_COLOR"] = ""
        s.env["PAGER"] = "cat > '\(s.repo)/paged-by-PAGER.txt'"
        s.env["MLV_PAGER"] = "cat > '\(paged)'"
        let report = "rows 1 → 1: +0 added, -0 removed, ~1 modified (1 cell), compared by key id"

        // A terminal: the pager gets the report, the exit status stays the diff's.
        var r = try Terminal.run(s, ["diff", "HEAD~1", "HEAD", "--key", "id", "--exit-code"])
        #expect(r.status == 1)
        #expect(!r.output.contains(report))
        #expect((try? String(contentsOfFile: paged, encoding: .utf8))?.contains(report) == true)
        #expect(!FileManager.default.fileExists(atPath: s.repo + "/paged-by-PAGER.txt"))
        try FileManager.default.removeItem(atPath: paged)
        // $PAGER when $MLV_PAGER is unset.
        s.env["MLV_PAGER"] = nil
        var env = s.environment
        env.removeValue(forKey: "MLV_PAGER")
        r = try Terminal.run(s, ["diff", "HEAD~1", "HEAD", "--key", "id"], environment: env)
        #expect((try? String(contentsOfFile: s.repo + "/paged-by-PAGER.txt", encoding: .utf8))?.contains(report) == true)
        s.env["MLV_PAGER"] = "cat > '\(paged)'"
        // --no-pager: straight to the terminal, in colour.
        r = try Terminal.run(s, ["diff", "HEAD~1", "HEAD", "--key", "id", "--no-pager"])
        #expect(r.output.contains(report))
        #expect(r.output.contains("\u{1B}["))
        #expect(!FileManager.default.fileExists(atPath: paged))
        // NO_COLOR, any non-empty value: no colour.
        s.env["NO_COLOR"] = "0"
        r = try Terminal.run(s, ["diff", "HEAD~1", "HEAD", "--key", "id", "--no-pager"])
        #expect(r.output.contains(report) && !r.output.contains("\u{1B}["))
        // A pipe: never the pager, never colour.
        s.env["NO_COLOR"] = ""
        let piped = try s.mlv("diff", "HEAD~1", "HEAD", "--key", "id")
        #expect(piped.stdout.contains(report) && !piped.stdout.contains("\u{1B}["))
        #expect(!FileManager.default.fileExists(atPath: paged))
    }

    /// A change never reads as none: a relative change of 1e-6 is not "+0.00%", and a binary
    /// with a few bytes changed is not "100%" unchanged.
    @Test func percentagesNeverRoundAChangeAway() throws {
        let s = try Sandbox()
        try s.write("metrics.json", #"{"n": 1000000}"# + "\n")
        try s.mlvOK("track", "--kind", "metrics", "metrics.json")
        try s.mlvOK("commit", "-m", "v1")
        try s.write("metrics.json", #"{"n": 1000001}"# + "\n")
        try s.mlvOK("commit", "-m", "v2")
        // (1000001 - 1000000) / 1000000 = 1e-6 = 0.0001 %.
        for format in ["text", "md", "html"] {
            let out = try s.mlvOK("diff", "HEAD~1", "HEAD", "--format", format).stdout
            #expect(!out.contains("+0.00%") && out.contains("+0.0001%"), "\(format): \(out)")
        }
    }

    // MARK: Wording

    /// Counts agree with their nouns: "1 file changed", "1 cell", "1 row × 1 column".
    @Test func countsAgreeWithTheirNouns() throws {
        let s = try Sandbox()
        try s.write("data/d/a.txt", "a\n")
        try s.write("data/one.csv", "v\n1\n")
        try s.write("data/t.csv", "id,v\n1,a\n")
        try s.mlvOK("track", "data/d", "data/t.csv")
        try s.mlvOK("track", "data/one.csv")
        let first = try s.mlvOK("commit", "-m", "v1").stdout
        #expect(first.contains("1 row × 1 column"), "\(first)")
        try s.write("data/d/a.txt", "b\n")
        try s.write("data/t.csv", "id,v\n1,b\n")
        try s.mlvOK("commit", "-m", "v2")
        let md = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id", "--format", "md").stdout
        #expect(md.contains("1 file changed"), "\(md)")
        let text = try s.mlvOK("diff", "HEAD~1", "HEAD", "--key", "id").stdout
        #expect(text.contains("(1 cell)"), "\(text)")
        for out in [first, md, text] {
            #expect(out.range(of: #"(^|[^\d.,])1 (files|rows|columns|cells|targets|objects|packs|values|nulls|bytes)\b"#, options: .regularExpression) == nil, "\(out)")
        }
    }
}

// MARK: Helpers

/// A JSON document as parsed, numbers and booleans kept apart.
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    subscript(key: String) -> JSONValue? { if case .object(let o) = self { return o[key] } else { return nil } }
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
}

/// Checks one human-format report against the JSON one. The output is cut into units (a
/// line of text or markdown, a table row or paragraph of HTML) and sections (one per
/// target); each fact must appear in its target's section, and the facts of one record (a
/// row sample, a modified row, a column's statistics, a metric, a gate) in one unit.
struct Facts {
    let format: String
    let units: [String]
    var problems: [String] = []
    /// Where each target's section starts and ends in `units` (filled on demand).
    let raw: String

    init(format: String, output: String) {
        self.format = format
        self.raw = output
        self.units = Facts.units(format, output)
    }

    static func units(_ format: String, _ s: String) -> [String] {
        switch format {
        case "html":
            var h = s
            if let a = h.range(of: "<style>"), let b = h.range(of: "</style>") { h.removeSubrange(a.lowerBound..<b.upperBound) }
            h = h.replacingOccurrences(of: "<br>", with: " ")
            h = h.replacingOccurrences(of: #"<h2>"#, with: "\n§section ", options: .regularExpression)
            h = h.replacingOccurrences(of: #"</(tr|li|p|h1|h2|h3|h4|table|ul|figcaption)>"#, with: "\n", options: .regularExpression)
            h = h.replacingOccurrences(of: #"<[^>]*>"#, with: " ", options: .regularExpression)
            return h.components(separatedBy: "\n").map(unescapeHTML)
        case "md":
            return s.components(separatedBy: "\n").map { line in
                if line.hasPrefix("<details><summary>") {
                    return "§section " + unescapeHTML(line.replacingOccurrences(of: #"<[^>]*>"#, with: "", options: .regularExpression))
                }
                // CommonMark: a backslash before ASCII punctuation stands for that character.
                return line.replacingOccurrences(of: #"\\([!-/:-@\[-`{-~])"#, with: "$1", options: .regularExpression)
            }
        default:
            return s.components(separatedBy: "\n")
        }
    }

    static func unescapeHTML(_ s: String) -> String {
        s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static let symbols = ["added": "+", "removed": "-", "modified": "~", "renamed": ">"]

    /// A target's section: in text from its header line to the next unindented line; in md
    /// its summary-table row and its <details> block; in html from its heading to the next.
    func section(_ path: String, change: String) -> [String] {
        var out: [String] = []
        switch format {
        case "text":
            let header = "\(Facts.symbols[change] ?? "~") \(path)  ("
            guard let i = units.firstIndex(where: { $0.hasPrefix(header) }) else { return [] }
            out.append(units[i])
            out += units[(i + 1)...].prefix { $0.hasPrefix(" ") }
        case "md":
            out += units.filter { $0.hasPrefix("| \(Facts.symbols[change] ?? "~") | \(path) |") }
            if let i = units.firstIndex(of: "§section " + path) {
                out += units[i...].prefix { $0 != "</details>" }
            }
        default:
            guard let i = units.firstIndex(where: { $0.hasPrefix("§section  \(path) ") || $0 == "§section  \(path)" || $0.hasPrefix("§section \(path)") }) else { return [] }
            out.append(units[i])
            out += units[(i + 1)...].prefix { !$0.hasPrefix("§section") }
        }
        return out
    }

    mutating func checkReport(_ j: JSONValue) {
        guard let o = j.object else { problems.append("report is not an object"); return }
        for (key, value) in o.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "from", "to": expectString(value.string ?? "", in: units, "\(key)")
            case "targets":
                for t in value.array ?? [] { checkTarget(t) }
            case "metrics", "params":
                let all = value.array ?? []
                let changed = all.filter { m in !same(m["old"], m["new"]) }
                for m in changed { checkRecord(m, in: units, "\(key) \(m["key"]?.string ?? "")", skip: []) }
                let unchanged = all.count - changed.count
                if unchanged > 0 {
                    let noun = key == "metrics" ? "metric" : "param"
                    let phrase = "\(unchanged) unchanged \(noun)\(unchanged == 1 ? "" : "s")"
                    if !units.contains(where: { $0.contains(phrase) }) { problems.append("\(key): no \"\(phrase)\"") }
                }
            case "gates":
                for g in value.array ?? [] { checkRecord(g, in: units, "gate \(g["expression"]?.string ?? "")", skip: []) }
            default:
                walk(value, key: key, in: units, "report.\(key)")
            }
        }
    }

    func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case (nil, nil), (.null?, .null?), (nil, .null?), (.null?, nil): return true
        case let (.number(x)?, .number(y)?): return x == y
        case let (.string(x)?, .string(y)?): return x == y
        case let (.bool(x)?, .bool(y)?): return x == y
        default: return false
        }
    }

    mutating func checkTarget(_ t: JSONValue) {
        let path = t["path"]?.string ?? "?"
        let sec = section(path, change: t["change"]?.string ?? "modified")
        guard !sec.isEmpty else { problems.append("no section for target \(path)"); return }
        for (key, value) in (t.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            let what = "\(path).\(key)"
            switch key {
            case "old_snapshot", "new_snapshot": continue   // identities for machines; `mlv show` takes them
            case "change": expectChange(value.string ?? "", in: sec, what)
            case "files":
                for f in value.array ?? [] { checkRecord(f, in: sec, "\(what) \(f["path"]?.string ?? "")", skip: []) }
            case "table": checkTable(value, in: sec, what)
            case "tables":
                for (name, tab) in value.object ?? [:] {
                    expectString(name, in: sec, "\(what) \(name)")
                    checkTable(tab, in: sec, "\(what)[\(name)]")
                }
            default: walk(value, key: key, in: sec, what)
            }
        }
    }

    mutating func checkTable(_ tab: JSONValue, in sec: [String], _ what: String) {
        for (key, value) in (tab.object ?? [:]).sorted(by: { $0.key < $1.key }) {
            switch key {
            // `index` (a column's position) is for machines: text, md and html name a column by
            // its label, which carries the position when the name repeats ("v (column 3)",
            // checked by TableTrustTests.repeatedColumnNamesKeepTheirOwnStatistics).
            case "stats":
                for s in value.array ?? [] { checkRecord(s, in: sec, "\(what).stats \(s["column"]?.string ?? "")", skip: ["histogram", "index"]) }
            case "modified_rows":
                for m in value.array ?? [] { checkRecord(m, in: sec, "\(what).modified_rows", skip: ["index"], oneRow: true) }
            case "added_sample", "removed_sample":
                for r in value.array ?? [] {
                    // Column names may head an HTML table: the values make the row, the names the section.
                    for name in (r.object ?? [:]).keys { expectString(name, in: sec, "\(what).\(key) column") }
                    let values = JSONValue.array((r.object ?? [:]).values.map { $0 })
                    checkRecord(values, in: sec, "\(what).\(key) \(r.object?["id"]?.string ?? "")", skip: [], oneRow: true)
                }
            case "columns":
                for (k, v) in value.object ?? [:] {
                    if k == "type_changed" {
                        for c in v.array ?? [] { checkRecord(c, in: sec, "\(what).columns.type_changed", skip: ["index"]) }
                    } else { walk(v, key: k, in: sec, "\(what).columns.\(k)") }
                }
            default: walk(value, key: key, in: sec, "\(what).\(key)")
            }
        }
    }

    /// All the leaves of `record` in one unit of `scope`.
    mutating func checkRecord(_ record: JSONValue, in scope: [String], _ what: String, skip: Set<String>, oneRow: Bool = false) {
        var strings: [String] = [], numbers: [Double] = [], bools: [(String, Bool)] = []
        func collect(_ v: JSONValue, _ key: String) {
            switch v {
            case .null: break
            case .string(let s): strings.append(key == "change" ? "" : s)
            case .number(let d): numbers.append(d)
            case .bool(let b): bools.append((key, b))
            case .array(let a): for x in a { collect(x, key) }
            case .object(let o): for (k, x) in o where !skip.contains(k) { collect(x, k) }
            }
        }
        collect(record, "")
        let candidates = scope.filter { u in
            strings.allSatisfy { $0.isEmpty || u.contains($0) } && numbers.allSatisfy { Facts.hasNumber($0, in: u) }
        }
        // A markdown record must be a table row: prefer one.
        guard let unit = candidates.first(where: { !oneRow || format != "md" || $0.hasPrefix("|") }) ?? candidates.first else {
            let missing = strings.filter { s in !s.isEmpty && !scope.contains { $0.contains(s) } }
            problems.append("\(what): no single \(format == "html" ? "row" : "line") holds \(strings.filter { !$0.isEmpty }) and \(numbers)" +
                            (missing.isEmpty ? "" : "; not shown at all: \(missing)"))
            return
        }
        if oneRow && format == "md" && !unit.hasPrefix("|") { problems.append("\(what): markdown record outside a table row: \(unit)") }
        for (k, b) in bools { expectBool(k, b, unit: unit, scope: scope, what) }
    }

    /// Leaves not in a record: each somewhere in the scope.
    mutating func walk(_ v: JSONValue, key: String, in scope: [String], _ what: String) {
        switch v {
        case .null: break
        case .string(let s): key == "change" ? expectChange(s, in: scope, what) : expectString(s, in: scope, what)
        case .number(let d): if !scope.contains(where: { Facts.hasNumber(d, in: $0) }) { problems.append("\(what): number \(d) not shown") }
        case .bool(let b): expectBool(key, b, unit: scope.joined(separator: "\n"), scope: scope, what)
        case .array(let a): for x in a { walk(x, key: key, in: scope, what) }
        case .object(let o): for (k, x) in o.sorted(by: { $0.key < $1.key }) where k != "histogram" { walk(x, key: k, in: scope, "\(what).\(k)") }
        }
    }

    mutating func expectString(_ s: String, in scope: [String], _ what: String) {
        if !scope.contains(where: { $0.contains(s) }) { problems.append("\(what): \"\(s)\" not shown") }
    }

    mutating func expectChange(_ change: String, in scope: [String], _ what: String) {
        let sym = Facts.symbols[change] ?? "?"
        if !scope.contains(where: { $0.contains(change) || $0.contains(sym + " ") || $0.contains("| \(sym) |") }) {
            problems.append("\(what): change \(change) not shown")
        }
    }

    /// How human formats show each boolean field. A new one fails here until it is added.
    mutating func expectBool(_ key: String, _ b: Bool, unit: String, scope: [String], _ what: String) {
        let all = scope.joined(separator: "\n")
        switch key {
        case "keyed": if !all.contains(b ? "by key" : "as a multiset") { problems.append("\(what): keyed=\(b) not shown") }
        case "reordered": if b && !all.contains("reordered") { problems.append("\(what): reordered not shown") }
        case "drifted": if b && !unit.contains("!") { problems.append("\(what): drifted not marked !") }
        case "fired": if unit.lowercased().contains("not fired") == b { problems.append("\(what): fired=\(b) not shown") }
        case "distinct_exact": if !b && !unit.contains("≈") { problems.append("\(what): an estimated distinct count not marked ≈") }
        case "median_exact": if !b && !unit.contains("≈") { problems.append("\(what): an estimated median not marked ≈") }
        default: problems.append("\(what): boolean field \(key) unknown to this test: teach `Facts.expectBool` how text, md and html show it")
        }
    }

    /// Whether `unit` shows `x`: a number in it that `x` rounds to at the shown precision
    /// ("43.9219" for 43.92186), as a percentage ("+5.56%" for 0.0556) or in binary units
    /// ("1.2 KiB" for 1234); grouped digits ("10,000") read as one number.
    static func hasNumber(_ x: Double, in unit: String) -> Bool {
        let pattern = #"([-+]?)((?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:[eE]([-+]?\d+))?)(\s?(%|B|KiB|MiB|GiB|TiB))?"#
        guard let re = try? NSRegularExpression(pattern: pattern) else { return false }
        let ns = unit as NSString
        for m in re.matches(in: unit, range: NSRange(location: 0, length: ns.length)) {
            func group(_ i: Int) -> String? { m.range(at: i).location == NSNotFound ? nil : ns.substring(with: m.range(at: i)) }
            guard let body = group(2), let mag = Double(body.replacingOccurrences(of: ",", with: "")) else { continue }
            let decimals = group(3)?.count ?? 0
            let exponent = Double(group(4) ?? "0") ?? 0
            var tol = 0.5 * pow(10, -Double(decimals)) * pow(10, exponent)
            var scale = 1.0
            switch group(6) {
            case "%": scale = 0.01
            case "KiB": scale = 1024
            case "MiB": scale = 1024 * 1024
            case "GiB": scale = 1024 * 1024 * 1024
            case "TiB": scale = 1024 * 1024 * 1024 * 1024
            default: break
            }
            tol *= scale
            for signed in [group(1) == "-" ? -mag : mag, mag] {
                if abs(x - signed * scale) <= tol * (1 + 1e-9) + 1e-12 { return true }
            }
        }
        return false
    }
}

enum Markdown {
    /// Tables have one row per line with as many cells as their header, every <details> is
    /// closed, code spans are balanced on each line.
    static func checkWellFormed(_ md: String, sourceLocation: SourceLocation = #_sourceLocation) {
        func cells(_ line: String) -> Int {
            // Unescaped pipes, minus the two at the ends.
            var n = 0, escaped = false
            for ch in line { if ch == "\\" && !escaped { escaped = true; continue }; if ch == "|" && !escaped { n += 1 }; escaped = false }
            return n - 1
        }
        let lines = md.components(separatedBy: "\n")
        var i = 0
        while i < lines.count {
            if lines[i].hasPrefix("|"), i + 1 < lines.count, lines[i + 1].hasPrefix("|---") || lines[i + 1].hasPrefix("|:") {
                let width = cells(lines[i])
                var j = i + 1
                while j < lines.count, !lines[j].isEmpty {
                    #expect(lines[j].hasPrefix("|") && lines[j].hasSuffix("|") && cells(lines[j]) == width,
                            "table row \(j) does not match its header: \(lines[j].prefix(200))", sourceLocation: sourceLocation)
                    j += 1
                }
                i = j
            } else { i += 1 }
        }
        #expect(md.components(separatedBy: "<details>").count == md.components(separatedBy: "</details>").count, sourceLocation: sourceLocation)
    }
}

/// Runs mlv with a pseudo-terminal as stdout (Python's pty module), as a user at a terminal.
enum Terminal {
    struct Result { var status: Int32; var output: String }

    static let script = """
        import os, pty, subprocess, sys
        master, slave = pty.openpty()
        p = subprocess.Popen(sys.argv[1:], stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        os.close(slave)
        out = b""
        while True:
            try:
                d = os.read(master, 65536)
            except OSError:
                break
            if not d:
                break
            out += d
        sys.stdout.buffer.write(out)
        sys.exit(p.wait())
        """

    static func run(_ s: Sandbox, _ args: [String], environment: [String: String]? = nil) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script, mlvBinary] + args
        p.currentDirectoryURL = URL(fileURLWithPath: s.repo)
        p.environment = environment ?? s.environment
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
