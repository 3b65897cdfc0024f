// placeholder until printers land
