// The report of a transfer (push, fetch, pull's fetch), in text or JSON.
import MLVCore

enum TransferText {
    /// Prints what a push or fetch moved: JSON, or one line naming packs, bytes and the remote.
    static func render(_ r: TransferResult, verb: String, json: Bool) throws {
        if json { try Out.json(r); return }
        let there = r.alreadyThereBytes.map { " (\(bytes($0)))" } ?? ""
        Out.line("\(verb) \(counted(r.packs, "pack")) (\(bytes(r.bytes))) \(verb == "pushed" ? "to" : "from") \(r.remote); \(r.alreadyThere) already there\(there); \(counted(r.objects, "object")) needed")
    }
}
