"""Real source meshes and an independent glTF check for the asset-finalization tests."""
