"""Other servers, seen from here: signed fetches of their documents and the actor cache."""
