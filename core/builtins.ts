// The built-in adapters register themselves when imported, as Go plugins do from init().
import '../adapters';
