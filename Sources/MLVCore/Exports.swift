// The few names of lower modules that the command layer spells. MLVCommands imports MLVCore
// alone (Package.swift, ArchitectureTests): members of values the core returns need no import,
// but a type or function a command names does, so it comes through here. Keep this short: a
// command that needs more of a lower module usually wants a core function instead.
import MLVSystem

/// Every error type's category (MLVSystem), mapped to the exit status by MLVCommands.
public typealias ErrorCategory = MLVSystem.ErrorCategory
public typealias CategorizedError = MLVSystem.CategorizedError

/// Reading and atomically writing plain files: the merge driver's %A, the diff driver's copy.
public typealias FS = MLVSystem.FS

/// "1 file", "2 files": MLVSystem's one owner of counted nouns, for the renderers. A namespace,
/// not free functions of the same names: a file importing both MLVCore and MLVSystem (a test)
/// would find two `counted` and refuse to choose.
public enum Wording {
    public static func counted<N: BinaryInteger>(_ n: N, _ singular: String, _ plural: String? = nil) -> String {
        MLVSystem.counted(n, singular, plural)
    }

    /// The noun alone, for counts printed in another form ("1,204 rows").
    public static func noun<N: BinaryInteger>(_ n: N, _ singular: String, _ plural: String? = nil) -> String {
        MLVSystem.noun(n, singular, plural)
    }
}
