import MLVCommands

MLV.run()
