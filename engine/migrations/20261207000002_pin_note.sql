-- Why the owner pinned a snapshot (`mnemosynce snapshots pin TASK SNAP --note ...`), shown with the pin.
ALTER TABLE snapshots ADD COLUMN pin_note TEXT;
