// Safetensors models: the header (`SafetensorsHeader`) and the tensor-by-tensor comparison
// (`TensorChange`, `SafetensorsDiff`).
import Foundation

/// A safetensors file's header: tensor names, dtypes, shapes and byte ranges.
/// Format: u64 little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
/// then the tensor bytes.
struct SafetensorsHeader {
    struct Tensor {
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }
    var tensors: [String: Tensor]
    var dataStart: Int

    /// The largest header mlv reads. The format allows 100 MB; real headers are a few hundred
    /// bytes per tensor (a checkpoint of 2,000 tensors: about 300 KiB), so 16 MiB is some
    /// 100,000 tensors, and keeps the parsed header (about 200 bytes a tensor) small.
    static let maxHeaderBytes = 16 << 20

    /// Nil when `prefix` is not a safetensors file (no length, or one the format forbids);
    /// throws `DiffError.tooWide` for a header past `maxHeaderBytes`.
    static func parse(prefix: [UInt8], path: String, maxHeaderBytes: Int = maxHeaderBytes) throws -> SafetensorsHeader? {
        guard prefix.count >= 8 else { return nil }
        let raw = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard raw > 1, raw <= 100 << 20 else { return nil }
        let n = Int(raw)
        guard prefix.count >= 8 + n else { return nil }
        if n > maxHeaderBytes {
            throw DiffError.tooWide(file: path, why: "safetensors header of \(n) bytes, more than the \(maxHeaderBytes >> 20) MiB mlv reads")
        }
        // JSONDecoder, not JSONSerialization: the header becomes the structs below directly,
        // without an object per value (JSONSerialization took 1.2 GB for 300,000 tensors).
        do {
            let h = try JSONDecoder().decode(HeaderJSON.self, from: Data(prefix[8..<(8 + n)]))
            return SafetensorsHeader(tensors: h.tensors, dataStart: 8 + n)
        } catch let e as BadEntry {
            throw DiffError.malformed(file: path, line: 0, why: "safetensors entry \(e.name.debugDescription) is malformed")
        } catch {
            throw DiffError.malformed(file: path, line: 0, why: "safetensors header is not valid JSON")
        }
    }

    private struct BadEntry: Error { let name: String }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct EntryJSON: Decodable {
        var dtype: String
        var shape: [Int]
        var data_offsets: [Int]
    }

    /// {name: {dtype, shape, data_offsets}, "__metadata__": {...}}
    private struct HeaderJSON: Decodable {
        var tensors: [String: Tensor] = [:]

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            for k in c.allKeys where k.stringValue != "__metadata__" {
                guard let d = try? c.decode(EntryJSON.self, forKey: k),
                      d.shape.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }),
                      d.data_offsets.count == 2, d.data_offsets[0] >= 0, d.data_offsets[1] >= d.data_offsets[0],
                      d.data_offsets[1] < 1 << 50 else { throw BadEntry(name: k.stringValue) }
                tensors[k.stringValue] = Tensor(dtype: d.dtype, shape: d.shape, begin: d.data_offsets[0], end: d.data_offsets[1])
            }
        }
    }
}

public struct TensorChange: Codable, Sendable {
    /// How a tensor differs: `ChangeKind`'s words, plus a new shape or a new dtype (whose
    /// values are then not compared).
    public enum Kind: String, Sendable, Codable, CaseIterable { case added, removed, reshaped, retyped, modified }

    public var name: String
    public var change: Kind
    public var oldShape: [Int]?
    public var newShape: [Int]?
    public var oldDtype: String?
    public var newDtype: String?
    /// ‖new − old‖ / ‖old‖ for float tensors of the same shape.
    public var relativeL2: Double?

    enum CodingKeys: String, CodingKey {
        case name, change
        case oldShape = "old_shape"
        case newShape = "new_shape"
        case oldDtype = "old_dtype"
        case newDtype = "new_dtype"
        case relativeL2 = "relative_l2"
    }
}

public struct SafetensorsDiff: Codable, Sendable {
    public var parametersOld: Int
    public var parametersNew: Int
    public var tensors: [TensorChange]

    enum CodingKeys: String, CodingKey {
        case tensors
        case parametersOld = "parameters_old"
        case parametersNew = "parameters_new"
    }
}

/// Compares two safetensors files, reading each tensor once (bounded by the largest tensor).
func diffSafetensors(old: [UInt8], new: [UInt8], path: String) throws -> SafetensorsDiff? {
    guard let a = try SafetensorsHeader.parse(prefix: old, path: path), let b = try SafetensorsHeader.parse(prefix: new, path: path) else { return nil }
    func params(_ h: SafetensorsHeader) -> Int {
        h.tensors.values.reduce(0) { total, t in
            let n = t.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
            return total.addingReportingOverflow(n).overflow ? Int.max : total + n
        }
    }
    var changes: [TensorChange] = []
    for name in Set(a.tensors.keys).union(b.tensors.keys).sorted() {
        let x = a.tensors[name], y = b.tensors[name]
        var c = TensorChange(name: name, change: .modified, oldShape: x?.shape, newShape: y?.shape, oldDtype: x?.dtype, newDtype: y?.dtype, relativeL2: nil)
        guard let x else { c.change = .added; changes.append(c); continue }
        guard let y else { c.change = .removed; changes.append(c); continue }
        if x.dtype != y.dtype { c.change = .retyped; changes.append(c); continue }
        if x.shape != y.shape { c.change = .reshaped; changes.append(c); continue }
        let ra = (a.dataStart + x.begin)..<(a.dataStart + x.end), rb = (b.dataStart + y.begin)..<(b.dataStart + y.end)
        guard ra.upperBound <= old.count, rb.upperBound <= new.count else {
            throw DiffError.malformed(file: path, line: 0, why: "tensor \(name.debugDescription) runs past the end of the file")
        }
        if old[ra] == new[rb] { continue }
        c.change = .modified
        if (x.dtype == "F32" || x.dtype == "F64") && ra.count == rb.count {
            var num = 0.0, den = 0.0
            old[ra].withUnsafeBytes { p in
                new[rb].withUnsafeBytes { q in
                    if x.dtype == "F32" {
                        for i in 0..<(p.count / 4) {
                            let u = Double(p.loadUnaligned(fromByteOffset: i * 4, as: Float.self))
                            let v = Double(q.loadUnaligned(fromByteOffset: i * 4, as: Float.self))
                            num += (v - u) * (v - u); den += u * u
                        }
                    } else {
                        for i in 0..<(p.count / 8) {
                            let u = p.loadUnaligned(fromByteOffset: i * 8, as: Double.self)
                            let v = q.loadUnaligned(fromByteOffset: i * 8, as: Double.self)
                            num += (v - u) * (v - u); den += u * u
                        }
                    }
                }
            }
            c.relativeL2 = den > 0 ? (num / den).squareRoot() : nil
        }
        changes.append(c)
    }
    return SafetensorsDiff(parametersOld: params(a), parametersNew: params(b), tensors: changes)
}
