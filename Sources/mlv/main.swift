// The mlv executable: all of it is in MLVCommands (`MLV.run` parses, runs, and exits with the
// documented status).
import MLVCommands

MLV.run()
