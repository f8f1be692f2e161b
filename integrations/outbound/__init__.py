"""Write-back: deal changes and new deals made on the board, written to the company's CRM through
its provider (reached only through the registry) and applied at once through the one write path."""
