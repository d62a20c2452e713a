import Testing
@testable import MLVStore

/// Record ends of a CSV found chunk by chunk, wherever the chunks are cut, must be the
/// records the whole text holds (counted here from the text written, by hand).
@Suite struct QuoteScannerTests {
    /// Records with content (blank lines left out), the last one without a line break included.
    func records(_ text: String, cuts: [Int]) -> UInt64 {
        let bytes = Array(text.utf8)
        var q = QuoteScanner(separator: UInt8(ascii: ","))
        var start = 0
        for end in cuts.map({ min($0, bytes.count) }) + [bytes.count] where end >= start {
            bytes[start..<end].withUnsafeBytes { chunk in
                if chunk.contains(0x22) || q.inQuotes { _ = q.scan(chunk) } else {
                    _ = q.skip(chunk, lineBreaks: UInt64(chunk.filter { $0 == 0x0A }.count), blanks: countBlankLines(in: chunk))
                }
            }
            start = end
        }
        q.finish()
        return q.records
    }

    @Test func blankLinesAreNoRecordsWhereverTheChunksAreCut() {
        // 5 records, as Python's csv.reader without its empty rows: the header, 1 (a blank
        // line inside quotes), 2, `""` (one empty field), 3 (no line break at the end); blank
        // lines: LF, CR LF, a lone CR before the end.
        let text = "id,note\n\n1,\"a\n\nb\"\r\n\r\n2,x\n\r\n\"\"\n3,y\n\n\r"
        for cut in 0...text.utf8.count {
            #expect(records(text, cuts: [cut]) == 5, "cut at \(cut)")
            #expect(records(text, cuts: [cut, cut + 1, cut + 2]) == 5, "cuts at \(cut)")
        }
        #expect(records(text, cuts: Array(0...text.utf8.count)) == 5)
        #expect(records("a,b\n1,2\n3,4\n\n", cuts: [5]) == 3)
        #expect(records("\r\n\n", cuts: []) == 0 && records("", cuts: []) == 0 && records(" \n", cuts: []) == 1)
    }

    func count(_ text: String, cuts: [Int]) -> (UInt64, Bool) {
        let bytes = Array(text.utf8)
        var q = QuoteScanner(separator: UInt8(ascii: ","))
        var n: UInt64 = 0
        var start = 0
        for end in cuts + [bytes.count] where end >= start {
            bytes[start..<end].withUnsafeBytes { chunk in
                let hasQuote = chunk.contains(0x22)
                n += hasQuote || q.inQuotes ? q.scan(chunk) : q.skip(chunk, lineBreaks: UInt64(chunk.filter { $0 == 0x0A }.count))
            }
            start = end
        }
        return (n, q.endsInsideQuotes)
    }

    @Test func recordEndsWhereverTheChunksAreCut() {
        // 5 record ends: the header, 1 (two quoted line breaks), 2 (a doubled quote before a
        // quoted line break), 3 (a stray quote in an unquoted field), 4 (CR LF).
        let text = "id,note\n1,\"a\nb\r\nc\"\n2,\"say \"\"x\"\"\ny\"\n3,5'11\"\n4,\"p\"\r\n"
        for cut in 0...text.utf8.count {
            #expect(count(text, cuts: [cut]) == (5, false), "cut at \(cut)")
        }
        #expect(count(text, cuts: Array(0...text.utf8.count)) == (5, false))
        #expect(count("a,b\n1,\"open\n2,3\n", cuts: [7]) == (1, true))   // only the header ends outside the quotes
        #expect(count("a,b\n1,\"closed at the end\"", cuts: [9]).1 == false)
    }
}
