// Throwaway-style measurement, kept so the chunk-size choice can be re-checked: see run.sh.
import Foundation
// Throwaway: store growth per average chunk size (min = avg/4, max = avg*4), same gear hash.
func readAll(_ p: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: p)!) }
func ids(_ data: [UInt8], _ c: Chunker) -> [(Int, Int)] {   // (hash, len)
    var out: [(Int, Int)] = []
    data.withUnsafeBytes { buf in
        var off = 0
        while off < buf.count {
            let len = c.cut(UnsafeRawBufferPointer(rebasing: buf[off...]), atEOF: true)!
            var h = Hasher(); h.combine(bytes: UnsafeRawBufferPointer(rebasing: buf[off..<off+len]))
            out.append((h.finalize(), len)); off += len
        }
    }
    return out
}
let pairs = CommandLine.arguments.dropFirst().map { $0.split(separator: ",").map(String.init) }
for avgK in [16, 32, 64, 128, 256] {
    let c = Chunker(ChunkerParameters(minSize: avgK * 256, avgSize: avgK * 1024, maxSize: avgK * 4096))
    var line = "avg \(avgK) KiB:"
    for p in pairs {
        let a = ids(readAll(p[0]), c), b = ids(readAll(p[1]), c)
        let seen = Set(a.map { $0.0 })
        let newBytes = b.filter { !seen.contains($0.0) }.reduce(0) { $0 + $1.1 }
        let total = b.reduce(0) { $0 + $1.1 }
        line += String(format: "  %@ new %.2f%% (%d chunks, manifest %.3f%%)", (p[1] as NSString).lastPathComponent, 100.0 * Double(newBytes) / Double(total), b.count, 100.0 * Double(b.count * 36) / Double(total))
    }
    print(line)
}
