// Renderers whose text is a contract: HTML and markdown escaping, quoting of cell values, the
// `metrics show` formats, byte sizes. Values with several special characters check that each
// replacement applies everywhere (Foundation's replacingOccurrences, no homemade copy).
import Foundation
import Testing
@testable import MLVCommands
@testable import MLVCore

@Suite struct RendererTests {
    @Test func htmlEscapesEveryTagCharacter() {
        #expect(DiffRender.esc("<a href=\"x\">&amp;</a>") == "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;")
        #expect(DiffRender.esc("plain") == "plain")
    }

    @Test func cellValuesThatWouldReadAsTwoAreQuoted() {
        #expect(DiffRender.unambiguous("say \"hi\", \"bye\"") == "\"say \"\"hi\"\", \"\"bye\"\"\"")
        #expect(DiffRender.unambiguous("") == "\"\"")
        #expect(DiffRender.unambiguous("x") == "x")
    }

    @Test func shellQuotingSurvivesQuotes() {
        #expect(shellQuote("it's a 'test'") == "'it'\\''s a '\\''test'\\'''")
        #expect(shellQuote("HEAD~1") == "HEAD~1")
    }

    static let metrics = [
        MetricChange(file: "metrics.json", key: "acc|top1", old: nil, new: .number(ExactNumber(parsing: "0.91") ?? ExactNumber(0)), delta: nil, relative: nil),
        MetricChange(file: "m|2.json", key: "loss", old: nil, new: .text("a|b|c"), delta: nil, relative: nil),
    ]

    @Test func metricsShowAsMarkdownEscapesPipes() throws {
        let md = try MetricValuesText.render(Self.metrics, format: .md, revision: nil)
        #expect(md == """
            | file | metric | value |
            |---|---|---:|
            | metrics.json | acc\\|top1 | 0.91 |
            | m\\|2.json | loss | a\\|b\\|c |

            """)
    }

    @Test func metricsShowAsTextAlignsKeys() throws {
        let text = try MetricValuesText.render(Self.metrics, format: .text, revision: nil)
        #expect(text == "metrics.json  acc|top1  0.91\nm|2.json  loss      a|b|c\n")
    }

    @Test func sizesAndCounts() {
        #expect(bytes(17) == "17 B")
        #expect(bytes(1536) == "1.5 KiB")
        #expect(bytes(3 << 30) == "3.0 GiB")
        #expect(grouped(1_234_567) == "1,234,567" && grouped(999) == "999")
        #expect(counted(1, "file") == "1 file" && counted(2, "index", "indexes") == "2 indexes")
    }
}
