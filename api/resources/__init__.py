"""Resources: staff, rooms and equipment."""
